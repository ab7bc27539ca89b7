package dev.hatspark.util;

import java.util.Comparator;
import java.util.stream.IntStream;

/** Work split over Spark partitions so that no task waits on a heavy straggler. */
public final class Balance {
    private Balance() {
    }

    /**
     * Longest-processing-time-first: items in decreasing cost (ties: lower index first), each onto the
     * least-loaded partition (ties: lower partition). Returns the partition of every item, by index.
     */
    public static int[] lpt(double[] costs, int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1, got " + parts);
        }
        double[] load = new double[parts];
        int[] out = new int[costs.length];
        Integer[] order = IntStream.range(0, costs.length).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -costs[i]).thenComparingInt(i -> i));
        for (int i : order) {
            int best = 0;
            for (int p = 1; p < parts; p++) {
                if (load[p] < load[best]) {
                    best = p;
                }
            }
            load[best] += costs[i];
            out[i] = best;
        }
        return out;
    }
}
