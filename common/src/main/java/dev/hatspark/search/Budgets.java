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

    /**
     * {@code n} budgets spread evenly over the predicted latency range of the space, from its smallest to
     * its largest config: (lo + (hi − lo)·i/n for i = 1..n), rounded to 0.1 ms. The smallest config's own
     * latency is left out, since a population needs many distinct configs within its budget.
     */
    public static double[] spread(DesignSpace space, ToDoubleFunction<ArchConfig> predictedMs, int n) {
        if (n < 1) {
            throw new dev.hatspark.util.BadInputException("--budgets auto:N needs N >= 1, got " + n);
        }
        double lo = predictedMs.applyAsDouble(space.smallest());
        double hi = predictedMs.applyAsDouble(space.largest());
        if (!(hi > lo)) {
            throw new dev.hatspark.util.BadInputException("--budgets auto: the predictor puts the largest config ("
                    + String.format("%.2f", hi) + " ms) no slower than the smallest (" + String.format("%.2f", lo)
                    + " ms); give --budgets in ms");
        }
        double[] out = new double[n];
        for (int i = 1; i <= n; i++) {
            out[i - 1] = Math.round((lo + (hi - lo) * i / n) * 10) / 10.0;
        }
        return out;
    }
}
