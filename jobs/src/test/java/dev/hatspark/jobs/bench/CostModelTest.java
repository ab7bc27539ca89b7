package dev.hatspark.jobs.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CostModelTest {
    @Test
    void fitRecoversTheCoefficientsOfExactData() {
        double[] g = {1, 2, 5, 8, 3, 13};
        double[] n = {2, 2, 4, 4, 7, 7};
        double[] ms = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            ms[i] = 40 * g[i] + 3 * n[i] + 11;
        }
        CostModel.Fit f = CostModel.fit(g, n, ms);
        assertEquals(40, f.a(), 1e-9);
        assertEquals(3, f.b(), 1e-9);
        assertEquals(11, f.c(), 1e-9);
        assertEquals(1, f.r2(), 1e-12);
        ms[2] += 30; // noise lowers R²
        assertTrue(CostModel.fit(g, n, ms).r2() < 0.999);
    }

    @Test
    void oneBatchCountFitsGflopAndInterceptOnly() {
        double[] g = {1, 2, 5};
        CostModel.Fit f = CostModel.fit(g, new double[]{3, 3, 3}, new double[]{60, 100, 220});
        assertEquals(40, f.a(), 1e-9);
        assertEquals(0, f.b());
        assertEquals(20, f.c(), 1e-9);
    }

    @Test
    void wallIsComputeOverCoresButAtLeastTheLargestTaskPlusOverhead() {
        CostModel.Fit fit = new CostModel.Fit(100, 0, 0, 1, 3);        // 100 ms per GFLOP
        CostModel.Workload w = new CostModel.Workload(36, 72, 20);      // 3.6 s mean, 7.2 s largest, 20 batches
        CostModel.Mode m = new CostModel.Mode("m", 20, List.of(new CostModel.Job(100, 1)), 1.5);
        CostModel.Row r = CostModel.project(m, fit, w, new int[]{1, 10, 100}, 10);
        assertEquals(20 * 100 * 3.6 / 3600, r.computeHours(), 1e-12);
        // 10 slots: 100 × 3.6 s / 10 = 36 s per generation, more than any task
        assertEquals(20 * (36 + 1.5) / 3600, r.wallHours()[0], 1e-12);
        assertEquals(r.wallHours()[0], r.wholeWallHours()[0], 1e-12);
        // 100 slots: 3.6 s per slot; whole, the largest config's 7.2 s is the floor; split in 2 pieces of 3.6 s it is not
        assertEquals(20 * (7.2 + 1.5) / 3600, r.wholeWallHours()[1], 1e-12);
        assertEquals(20 * (3.6 + 1.5) / 3600, r.wallHours()[1], 1e-12);
        // 1,000 slots: 0.36 s per slot would take 20 pieces; at most one per batch: 7.2 s / 20
        assertEquals(20 * (0.36 + 1.5) / 3600, r.wallHours()[2], 1e-12);
    }

    @Test
    void stagesScoreTheirShareOfTheSetAndTheRest() {
        CostModel.Fit fit = new CostModel.Fit(100, 0, 0, 1, 3);
        CostModel.Workload w = new CostModel.Workload(36, 72, 20);
        CostModel.Mode m = new CostModel.Mode("m", 1, List.of(new CostModel.Job(10, 0.1), new CostModel.Job(5, 0.9)), 0);
        assertEquals(15, m.evaluations(), 1e-12);
        assertEquals(10 * 0.1 + 5 * 0.9, m.targetTokenSets(), 1e-12);
        CostModel.Row r = CostModel.project(m, fit, w, new int[]{1}, 1);
        assertEquals((10 * 0.36 + 5 * 3.24) / 3600, r.computeHours(), 1e-12);
        assertEquals(r.computeHours(), r.wallHours()[0], 1e-12); // one core: wall is compute
    }

    @Test
    void modesFollowHatsCountsAndTheRatios() {
        List<CostModel.Mode> m = CostModel.modes(10, 125, 25, 30, 0.5, new double[] {0.1, 0.3}, new double[] {0.7, 0.5}, 2, 3);
        assertEquals(37_500, m.get(0).evaluations(), 1e-9);
        assertEquals(10 * (125 + 29 * 100), m.get(1).evaluations(), 1e-9);
        assertEquals(15_125, m.get(2).evaluations(), 1e-9);
        assertEquals(3, m.get(3).jobs().size(), "two stages and the rest");
        assertEquals(15_125 * (0.1 + 0.7 * 0.2 + 0.5 * 0.7), m.get(3).targetTokenSets(), 1e-9);
        assertEquals(15_125 * (1 + 0.7 + 0.5), m.get(3).evaluations(), 1e-9);
        assertEquals(3, m.get(3).overheadS());
        assertThrows(IllegalArgumentException.class,
                () -> CostModel.modes(10, 125, 25, 30, 0.5, new double[] {0.1, 0.3}, new double[] {0.7}, 2, 3));
    }
}
