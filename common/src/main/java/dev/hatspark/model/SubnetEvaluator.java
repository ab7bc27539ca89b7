package dev.hatspark.model;

import ai.djl.ndarray.NDScope;
import dev.hatspark.space.ArchConfig;

import java.util.List;

/**
 * Validation loss (mean target-token NLL, nats) of SubTransformers with inherited weights.
 * Holds one loaded SuperTransformer and the validation batches, so each call costs only the forward
 * passes; deterministic (no dropout, fixed batches) and safe to call from several threads.
 */
public final class SubnetEvaluator {
    private final SuperTransformer model;
    private final List<Batch> batches;
    private final long tokens;

    public SubnetEvaluator(SuperTransformer model, List<Batch> batches) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("validation set is empty: no batches to evaluate on");
        }
        this.model = model;
        this.batches = batches;
        this.tokens = batches.stream().mapToLong(b -> b.targetTokens).sum();
    }

    public SuperTransformer model() {
        return model;
    }

    public double validLoss(ArchConfig config) {
        config.validate(model.space());
        return Grad.disabled(() -> {
            double sum = 0;
            for (Batch b : batches) {
                try (NDScope ignored = new NDScope()) {
                    sum += model.nllSum(config, b);
                }
            }
            return sum / tokens;
        });
    }

    /**
     * Summed NLL of every validation sentence, in the batches' order (a function of the sentences alone:
     * {@link Batches#byTokens} sorts by length before it cuts batches), so two configs' vectors pair up
     * sentence by sentence. Their sum over {@link #tokens()} is the validation loss.
     */
    public double[] sentenceNll(ArchConfig config) {
        config.validate(model.space());
        return Grad.disabled(() -> {
            double[] out = new double[batches.stream().mapToInt(b -> b.size).sum()];
            int i = 0;
            for (Batch b : batches) {
                try (NDScope ignored = new NDScope()) {
                    for (float v : model.nllPerSentence(config, b)) {
                        out[i++] = v;
                    }
                }
            }
            return out;
        });
    }

    public long tokens() {
        return tokens;
    }
}
