package dev.hatspark.jobs.search;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SweepTablesTest {
    /** A population row of generation g: config h at predicted latency ms with full-set loss (null: lost its race). */
    private static Row row(double budget, int g, String h, double ms, Double loss) {
        return RowFactory.create("s", budget, g, 0, h, "{" + h + "}", 0, 0, 0, 0, 0.0, ms, loss, "random", new String[0],
                false, loss == null ? "subset" : "full", 1.0, null, 0L, loss == null ? 0L : 5L);
    }

    @Test
    void bestIsTheLowestFullSetLossPerBudgetWithTiesToTheLowerHashThenTheEarlierGeneration() {
        List<Row> pop = List.of(
                row(50, 0, "b", 40, 6.0), row(50, 0, "c", 45, 5.0), row(50, 1, "a", 30, 5.0), row(50, 2, "a", 30, 5.0),
                row(50, 1, "z", 20, null),                     // lost its race: its subset loss never wins
                row(90, 0, "d", 80, 4.5), row(90, 1, "a", 30, 5.0));
        List<Row> best = SweepTables.best(pop);
        assertEquals(List.of(RowFactory.create("s", 50.0, "a", "{a}", 30.0, 5.0, 1),
                RowFactory.create("s", 90.0, "d", "{d}", 80.0, 4.5, 0)), best);
    }

    @Test
    void frontHoldsEachFullyEvaluatedConfigOnceAtItsFirstGenerationWhenNoOtherBeatsItOnBoth() {
        List<Row> pop = List.of(
                row(50, 2, "a", 30, 5.0), row(90, 1, "a", 30, 5.0),   // a in two budgets: found in generation 1
                row(90, 0, "d", 80, 4.5), row(90, 0, "e", 85, 4.6),   // e: slower and worse than d
                row(50, 0, "f", 20, null));                            // f: faster, but only a subset loss
        assertEquals(List.of(RowFactory.create("t", "a", "{a}", 30.0, 5.0, 1), RowFactory.create("t", "d", "{d}", 80.0, 4.5, 0)),
                SweepTables.front(pop, "t"));
    }
}
