package dev.hatspark.model;

/** Linear warm-up to the peak, then inverse-square-root decay (fairseq's inverse_sqrt, as HAT uses for IWSLT). */
public final class LearningRate {
    private LearningRate() {
    }

    public static float at(long step, float peak, int warmup) {
        long s = Math.max(1, step);
        if (s < warmup) {
            return peak * s / warmup;
        }
        return (float) (peak * Math.sqrt((double) warmup / s));
    }
}
