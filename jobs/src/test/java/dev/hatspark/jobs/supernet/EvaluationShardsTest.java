package dev.hatspark.jobs.supernet;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class EvaluationShardsTest {
    @Test
    void configsAreSplitOnlyWhenTheCostliestWouldOutlastAnEvenShare() {
        double[] ten = {1, 1, 1, 1, 1, 1, 1, 1, 1, 3};
        assertEquals(1, Evaluations.shards(ten, 2, 19), "12 units on 2 slots: the costliest (3) fits a share (6)");
        assertEquals(3, Evaluations.shards(ten, 12, 19), "12 units on 12 slots: 3 pieces bring it to a share");
        assertEquals(19, Evaluations.shards(new double[] {5}, 1024, 19), "never more pieces than batches");
        assertEquals(1, Evaluations.shards(new double[] {0}, 8, 4));
    }

    @Test
    void rangesCoverTheBatchesOnceInOrder() {
        List<int[]> r = Evaluations.ranges(10, 3);
        assertEquals(3, r.size());
        assertArrayEquals(new int[] {0, 3}, r.get(0));
        assertArrayEquals(new int[] {3, 6}, r.get(1));
        assertArrayEquals(new int[] {6, 10}, r.get(2));
        assertEquals(2, Evaluations.ranges(2, 5).size(), "no empty piece");
    }

    @Test
    void piecesJoinInBatchOrderWhateverOrderTheyArrive() {
        Evaluations.Piece p0 = new Evaluations.Piece("{}", 0, 2);
        Evaluations.Piece p1 = new Evaluations.Piece("{}", 2, 3);
        List<Evaluations.Part> parts = new java.util.ArrayList<>(List.of(
                new Evaluations.Part("h", p1, new double[] {0.3}, 5, 10, 1, 40),
                new Evaluations.Part("h", p0, new double[] {0.1, 0.2}, 10, 20, 0, 30)));
        Evaluations.Evaluation sub = Evaluations.merge(parts, true).get(0);
        assertArrayEquals(new double[] {0.1, 0.2, 0.3}, sub.sentenceNll(), 0.0);
        assertEquals(15, sub.tokens());
        assertEquals(30, sub.evalMs(), 0.0);
        assertEquals(1, sub.partition(), "the slowest piece's task");
        assertEquals(40, sub.partitionMs(), 0.0);
        Evaluations.Evaluation full = Evaluations.merge(parts, false).get(0);
        assertEquals(((0.1 + 0.2) + 0.3) / 15, full.valLoss(), 0.0);
        assertNull(full.sentenceNll());
    }
}
