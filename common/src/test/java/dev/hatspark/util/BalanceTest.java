package dev.hatspark.util;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalanceTest {
    @Test
    void heaviestItemsGoFirstOntoTheLeastLoadedPartition() {
        // 10 → p0; 6 → p1; 5 → p1 (6 < 10); 4 → p0 (10 < 11); 1 → p0 (14 vs 11 → p1)
        assertArrayEquals(new int[] {0, 1, 1, 0, 1}, Balance.lpt(new double[] {10, 6, 5, 4, 1}, 2));
        // ties: the lower index first, onto the lower partition
        assertArrayEquals(new int[] {0, 1, 2, 0}, Balance.lpt(new double[] {1, 1, 1, 1}, 3));
    }

    @Test
    void loadsStayWithinTheLargestItemOfEachOther() {
        SplittableRandom rng = new SplittableRandom(3);
        double[] costs = rng.doubles(200, 1, 100).toArray();
        int[] part = Balance.lpt(costs, 7);
        double[] load = new double[7];
        for (int i = 0; i < costs.length; i++) {
            load[part[i]] += costs[i];
        }
        double max = java.util.Arrays.stream(load).max().orElseThrow();
        double min = java.util.Arrays.stream(load).min().orElseThrow();
        assertTrue(max - min <= 100, "LPT keeps partitions within one item of each other: " + java.util.Arrays.toString(load));
    }
}
