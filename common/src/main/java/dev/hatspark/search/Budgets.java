package dev.hatspark.search;

import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.space.ArchConfig;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/** Latency budgets chosen from where the space's configs fall under a predictor. */
public final class Budgets {
    private Budgets() {
    }

    /**
     * Budgets at the given percentiles (0..100) of the predicted latency of {@code samples} uniformly
     * sampled configs, rounded to whole milliseconds (at least 1 ms).
     */
    public static double[] percentiles(DesignSpace space, ToDoubleFunction<ArchConfig> predictedMs, int samples, long seed,
                                       double... percentiles) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] ms = IntStream.range(0, samples).mapToDouble(i -> predictedMs.applyAsDouble(Genetics.sample(space, rng)))
                .sorted().toArray();
        double[] out = new double[percentiles.length];
        for (int i = 0; i < out.length; i++) {
            if (percentiles[i] < 0 || percentiles[i] > 100) {
                throw new dev.hatspark.util.BadInputException("--budget-percentiles must be in [0, 100], got " + percentiles[i]);
            }
            int at = (int) Math.min(ms.length - 1, Math.floor(percentiles[i] / 100 * ms.length));
            out[i] = Math.max(1, Math.round(ms[at]));
        }
        return out;
    }
}
