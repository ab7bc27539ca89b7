package dev.hatspark.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/** Token-budget batching: pairs of similar length grouped so that padded size stays under a budget. */
public final class Batches {
    private Batches() {
    }

    /**
     * Sorts pairs by length (stable, so the result depends only on the input order) and cuts them into
     * batches whose padded token count, max(src, tgt) length times sentences, stays within {@code maxTokens}.
     */
    public static List<Batch> byTokens(List<int[][]> pairs, int maxTokens) {
        List<int[][]> sorted = new ArrayList<>(pairs);
        sorted.sort(Comparator.comparingInt((int[][] p) -> Math.max(p[0].length, p[1].length))
                .thenComparingInt(p -> p[0].length));
        List<Batch> out = new ArrayList<>();
        List<int[][]> cur = new ArrayList<>();
        int curMax = 0;
        for (int[][] p : sorted) {
            int len = Math.max(p[0].length, p[1].length) + 1;
            int newMax = Math.max(curMax, len);
            if (!cur.isEmpty() && newMax * (cur.size() + 1) > maxTokens) {
                out.add(new Batch(cur));
                cur = new ArrayList<>();
                newMax = len;
            }
            cur.add(p);
            curMax = newMax;
        }
        if (!cur.isEmpty()) {
            out.add(new Batch(cur));
        }
        return out;
    }

    /** The batch order of one epoch: a permutation seeded by (seed, epoch), so a resumed run replays it. */
    public static int[] epochOrder(int batches, long seed, long epoch) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, new Random(seed * 1_000_003L + epoch));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }
}
