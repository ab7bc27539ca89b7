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
        return sumInOrder(batchNll(config, 0, batches.size())) / tokens;
    }

    /**
     * Summed NLL of each of batches {@code from..to-1}. {@link #validLoss} is their sum in batch order over
     * {@link #tokens()}, so a config's batches can be split across tasks and summed in the same order by whoever
     * collects them, to the same bits as one pass.
     */
    public double[] batchNll(ArchConfig config, int from, int to) {
        config.validate(model.space());
        return Grad.disabled(() -> {
            double[] out = new double[to - from];
            for (int i = from; i < to; i++) {
                try (NDScope ignored = new NDScope()) {
                    out[i - from] = model.nllSum(config, batches.get(i));
                }
            }
            return out;
        });
    }

    /** Left-to-right sum: the order {@link #validLoss} adds batch sums in. */
    public static double sumInOrder(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum;
    }

    /**
     * Summed NLL of every validation sentence, in the batches' order (a function of the sentences alone:
     * {@link Batches#byTokens} sorts by length before it cuts batches), so two configs' vectors pair up
     * sentence by sentence. Their sum over {@link #tokens()} is the validation loss.
     */
    public double[] sentenceNll(ArchConfig config) {
        return sentenceNll(config, 0, batches.size());
    }

    /** {@link #sentenceNll(ArchConfig)} of batches {@code from..to-1} only: concatenated in order, the whole vector. */
    public double[] sentenceNll(ArchConfig config, int from, int to) {
        config.validate(model.space());
        List<Batch> part = batches.subList(from, to);
        return Grad.disabled(() -> {
            double[] out = new double[part.stream().mapToInt(b -> b.size).sum()];
            int i = 0;
            for (Batch b : part) {
                try (NDScope ignored = new NDScope()) {
                    for (float v : model.nllPerSentence(config, b)) {
                        out[i++] = v;
                    }
                }
            }
            return out;
        });
    }

    public int batches() {
        return batches.size();
    }

    /** Target tokens of batches {@code from..to-1}. */
    public long tokens(int from, int to) {
        return batches.subList(from, to).stream().mapToLong(b -> b.targetTokens).sum();
    }

    public long tokens() {
        return tokens;
    }
}
