package dev.hatspark.jobs;

import dev.hatspark.jobs.cli.CheckpointOption;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.supernet.Evaluations;
import dev.hatspark.jobs.supernet.ExecutorModels;
import dev.hatspark.model.Batches;
import dev.hatspark.search.Racing;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A config's validation batches split across tasks give the bits of one pass, at either fidelity. */
class ShardedEvaluationTest {
    @Test
    void splittingAConfigsBatchesAcrossTasksChangesNoBit() throws Exception {
        SparkSession spark = SmallRun.spark();
        String root = SmallRun.root(spark);
        Layout layout = new Layout(root);
        String ckpt = new CheckpointOption().resolve(new Fs(spark.sparkContext().hadoopConfiguration()), layout);
        DesignSpace space = DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
        List<ArchConfig> configs = new ArrayList<>(Genetics.sampleDistinct(space, 3, 11));
        configs.add(configs.get(0)); // a duplicate is evaluated once
        Evaluations.Key full = Evaluations.key(spark, layout, ckpt, 0, 64);
        int batches = Batches.byTokens(full.valid(), full.maxTokens()).size();
        assertTrue(batches >= 4, "the small run's validation set makes several batches: " + batches);

        Map<String, Evaluations.Evaluation> one = byHash(Evaluations.evaluate(spark, full, configs, space.qkvDim, 300, 1));
        Map<String, Evaluations.Evaluation> split = byHash(Evaluations.evaluate(spark, full, configs, space.qkvDim, 300, 3));
        assertEquals(3, one.size());
        try (var lease = ExecutorModels.evaluator(full)) {
            for (ArchConfig c : configs) {
                Evaluations.Evaluation a = one.get(c.hash());
                Evaluations.Evaluation b = split.get(c.hash());
                assertEquals(lease.get().validLoss(c), a.valLoss(), 0.0, "one piece is one pass");
                assertEquals(a.valLoss(), b.valLoss(), 0.0, "three pieces add up to the same bits");
                assertEquals(full.tokens(), b.tokens());
                assertNull(b.sentenceNll());
            }
        }

        Evaluations.Key stage = full.parts(new Racing.Params(new double[] {0.5}, 4, 2, 0, 3)).get(0);
        Map<String, Evaluations.Evaluation> s1 = byHash(Evaluations.evaluate(spark, stage, configs, space.qkvDim, 300, 1));
        Map<String, Evaluations.Evaluation> s4 = byHash(Evaluations.evaluate(spark, stage, configs, space.qkvDim, 300, 4));
        try (var lease = ExecutorModels.evaluator(stage)) {
            for (ArchConfig c : configs) {
                double[] direct = lease.get().sentenceNll(c);
                assertArrayEquals(direct, s1.get(c.hash()).sentenceNll(), 0.0);
                assertArrayEquals(direct, s4.get(c.hash()).sentenceNll(), 0.0, "pieces joined in batch order");
                assertEquals(s1.get(c.hash()).valLoss(), s4.get(c.hash()).valLoss(), 0.0);
                assertEquals(stage.tokens(), s4.get(c.hash()).tokens());
            }
        }
    }

    private static Map<String, Evaluations.Evaluation> byHash(List<Evaluations.Evaluation> list) {
        assertEquals(list.size(), list.stream().map(Evaluations.Evaluation::configHash).distinct().count(), "one row per config");
        return list.stream().collect(Collectors.toMap(Evaluations.Evaluation::configHash, Function.identity()));
    }
}
