package dev.hatspark.model;

import dev.hatspark.util.BadInputException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * HAT's training recipe: each update trains one SubTransformer on one token-budget batch, Adam with
 * warm-up then inverse-sqrt decay, label-smoothed cross-entropy. The SuperTransformer samples a
 * SubTransformer uniformly per update ({@link #train(SuperTransformer, Adam, List, SubnetEvaluator, long, List,
 * Checkpointer)}); a SubTransformer trained on its own is the same loop with one fixed config
 * ({@link Sampler#fixed}, HAT's "train-subtransformer" mode). Everything random is a function of
 * (seed, step), so a run resumed from a checkpoint continues exactly as the uninterrupted one would.
 */
public final class SupernetTrainer {
    /** Consecutive skipped updates (non-finite loss or gradient) after which training stops. */
    static final int MAX_SKIPPED_IN_A_ROW = 5;
    private static final Logger LOG = LoggerFactory.getLogger(SupernetTrainer.class);

    /** {@code clipNorm}: the gradients' total L2 norm is clipped to this (fairseq's --clip-norm); 0 = off. */
    public record Options(long steps, float peakLr, int warmupSteps, float labelSmoothing, long seed,
                          int validEvery, int checkpointEvery, int logEvery, float clipNorm) implements Serializable {
    }

    /**
     * One row of supernet/metrics; {@code trainLoss} and {@code gradNorm} (mean total gradient norm before
     * clipping, over the updates since the previous row) are null for the row before the first update.
     */
    public record Metrics(long step, Double trainLoss, Double gradNorm, double validLossLargest, double validLossSmallest,
                          double tokensPerS) implements Serializable {
    }

    /**
     * Training stopped: {@link #MAX_SKIPPED_IN_A_ROW} updates in a row had a non-finite loss or gradient.
     * {@code lastCheckpoint} is the step of the newest checkpoint saved (0: none in this run).
     */
    public static final class DivergedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        public final long step;
        public final long lastCheckpoint;

        DivergedException(String message, long step, long lastCheckpoint) {
            super(message);
            this.step = step;
            this.lastCheckpoint = lastCheckpoint;
        }
    }

    /** Persists a consistent snapshot (model, optimizer, metrics so far) after {@code step} updates. */
    public interface Checkpointer {
        void save(long step, SuperTransformer model, Adam adam, List<Metrics> metrics) throws IOException;
    }

    /** The SubTransformer trained at each step. */
    public interface Sampler {
        ArchConfig at(long step);

        /** HAT's SuperTransformer training: a uniform sample per step, a function of (seed, step). */
        static Sampler uniform(DesignSpace space, long seed) {
            return step -> Genetics.sample(space, new SplittableRandom(seed * 31 + step));
        }

        /** One SubTransformer trained on its own. */
        static Sampler fixed(ArchConfig config) {
            return step -> config;
        }
    }

    /** A metrics row of type M, computed at step 0 (trainLoss and gradNorm null) and every validEvery steps. */
    public interface Validation<M> {
        M at(long step, Double trainLoss, Double gradNorm, double tokensPerS);
    }

    /** {@link Checkpointer} for any metrics row type. */
    public interface Saver<M> {
        void save(long step, SuperTransformer model, Adam adam, List<M> metrics) throws IOException;
    }

    private final Options opt;
    /** Tests only: (step, attempt) at which a NaN is written into a gradient after the backward pass. */
    java.util.function.BiPredicate<Long, Integer> fault;
    /** Steps whose first computation was non-finite and whose recomputation was finite, in this trainer. */
    private int transientFaults;

    public SupernetTrainer(Options opt) {
        this.opt = opt;
    }

    /** SuperTransformer training from {@code startStep} (0 for a fresh model); returns all metrics rows. */
    public List<Metrics> train(SuperTransformer model, Adam adam, List<Batch> train, SubnetEvaluator valid,
                               long startStep, List<Metrics> previous, Checkpointer checkpointer) throws IOException {
        ArchConfig largest = model.space().largest();
        ArchConfig smallest = model.space().smallest();
        return train(model, adam, train, Sampler.uniform(model.space(), opt.seed()), (step, trainLoss, gradNorm, tps) -> {
            Metrics row = new Metrics(step, trainLoss, gradNorm, valid.validLoss(largest), valid.validLoss(smallest), tps);
            LOG.info("step {}/{}: train loss {} valid loss largest {} smallest {}", step, opt.steps(),
                    trainLoss == null ? "-" : fmt(trainLoss), fmt(row.validLossLargest()), fmt(row.validLossSmallest()));
            return row;
        }, startStep, previous, checkpointer::save);
    }

    /**
     * The training loop: from {@code startStep} to {@code opt.steps()}, the config of each step from
     * {@code sampler}; a metrics row before the first update and every validEvery steps, a checkpoint
     * every checkpointEvery steps and at the end. Returns {@code previous} plus the new rows.
     */
    public <M> List<M> train(SuperTransformer model, Adam adam, List<Batch> train, Sampler sampler,
                             Validation<M> validation, long startStep, List<M> previous, Saver<M> saver) throws IOException {
        if (train.isEmpty()) {
            throw new BadInputException("training split is empty: nothing to train on");
        }
        List<M> metrics = new ArrayList<>(previous);
        if (startStep == 0 && metrics.isEmpty()) {
            metrics.add(validation.at(0, null, null, 0));
        }
        long t0 = System.nanoTime();
        long windowStart = t0;
        double lossSum = 0;
        double normSum = 0;
        double windowNormSum = 0;
        int skippedInARow = 0;
        long lossSteps = 0;
        long windowSteps = 0;
        long windowTokens = 0;
        long intervalTokens = 0;
        long intervalStart = t0;
        long lastSaved = startStep;
        for (long step = startStep + 1; step <= opt.steps(); step++) {
            Batch batch = train.get(batchIndex(train.size(), step));
            ArchConfig config = sampler.at(step);
            int seed = (int) (opt.seed() * 7919 + step);
            float loss = forwardBackward(model, config, batch, seed, step, 0);
            double norm = Float.isFinite(loss) ? adam.gradNorm(model.parameterMap()) : Double.NaN;
            String firstPass = null;
            if (!Double.isFinite(norm)) {
                // Computed once more from the same weights, batch, config and dropout seed: in identical runs such a
                // step was non-finite in one and finite in the other, and a replay of it in a fresh process was
                // finite every time, so a non-finite result that does not repeat is a transient fault of the native
                // computation, not the model's numerics. Its recomputation is what an unfaulted run computes.
                firstPass = nonFinite(model, adam, config, batch, seed, loss);
                adam.clearGradients(model.parameterMap());
                loss = forwardBackward(model, config, batch, seed, step, 1);
                norm = Float.isFinite(loss) ? adam.gradNorm(model.parameterMap()) : Double.NaN;
                if (Double.isFinite(norm)) {
                    transientFaults++;
                    LOG.warn("step {}: non-finite {} with config {} on {}; the same step computed again was finite (loss {},"
                            + " grad norm {}): a transient fault of the native computation ({} so far), update applied",
                            step, firstPass, config.toJson(), describe(train, step, batch), fmt(loss), fmt(norm), transientFaults);
                }
            }
            if (Double.isFinite(norm)) {
                if (opt.clipNorm() > 0 && norm > opt.clipNorm()) {
                    // fairseq's clip_grad_norm_: scale all gradients so that their total norm is clip-norm
                    adam.scaleGradients(model.parameterMap(), (float) (opt.clipNorm() / (norm + 1e-6)));
                }
                adam.step(model.parameterMap(), LearningRate.at(step, opt.peakLr(), opt.warmupSteps()));
                skippedInARow = 0;
                lossSum += loss;
                normSum += norm;
                windowNormSum += norm;
                lossSteps++;
                windowSteps++;
                windowTokens += batch.targetTokens;
                intervalTokens += batch.targetTokens;
            } else {
                // non-finite twice: this update is skipped (weights and moments unchanged); only a run of them
                // means the weights themselves went bad
                String second = nonFinite(model, adam, config, batch, seed, loss);
                String where = second.equals(firstPass) ? second : second + " (first computation: " + firstPass + ")";
                adam.clearGradients(model.parameterMap());
                skippedInARow++;
                String what = "step " + step + ": non-finite " + where + " with config " + config.toJson() + " on "
                        + describe(train, step, batch);
                LOG.warn("{}: update skipped", what);
                if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
                    throw new DivergedException("training diverged: " + skippedInARow + " updates in a row had a non-finite"
                            + " loss or gradient, the last at " + what + "; every checkpoint is kept, the newest "
                            + (lastSaved > 0 ? "at step " + lastSaved : "from before this run (none written by it)"),
                            step, lastSaved);
                }
            }
            if (step % opt.logEvery() == 0) {
                long now = System.nanoTime();
                double tps = windowTokens / ((now - windowStart) / 1e9);
                double perStep = (now - t0) / 1e9 / (step - startStep);
                LOG.info("step {}/{}: loss {} grad norm {} lr {} {} tok/s, ETA {}", step, opt.steps(),
                        lossSteps == 0 ? "-" : fmt(lossSum / lossSteps),
                        windowSteps == 0 ? "-" : String.format("%.3f", windowNormSum / windowSteps),
                        String.format("%.2e", LearningRate.at(step, opt.peakLr(), opt.warmupSteps())),
                        Math.round(tps), Progress.eta(perStep * (opt.steps() - step)));
                windowStart = now;
                windowTokens = 0;
                windowNormSum = 0;
                windowSteps = 0;
            }
            boolean last = step == opt.steps();
            if (step % opt.validEvery() == 0 || last) {
                double tps = intervalTokens / ((System.nanoTime() - intervalStart) / 1e9);
                metrics.add(validation.at(step, lossSteps == 0 ? null : lossSum / lossSteps,
                        lossSteps == 0 ? null : normSum / lossSteps, tps));
                lossSum = 0;
                normSum = 0;
                lossSteps = 0;
                intervalTokens = 0;
                intervalStart = System.nanoTime();
            }
            if (step % opt.checkpointEvery() == 0 || last) {
                saver.save(step, model, adam, metrics);
                lastSaved = step;
            }
        }
        return metrics;
    }

    /** Sets the step's dropout seed, runs forward and backward (gradients accumulate), returns the loss. */
    private float forwardBackward(SuperTransformer model, ArchConfig config, Batch batch, int seed, long step, int attempt) {
        Engine.getInstance().setRandomSeed(seed);
        try (NDScope ignored = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray l = model.loss(config, batch, true, opt.labelSmoothing());
            gc.backward(l);
            float loss = l.getFloat();
            if (fault != null && fault.test(step, attempt)) {
                Grad.disabled(() -> {
                    model.parameterMap().values().iterator().next().getGradient().set(new ai.djl.ndarray.index.NDIndex("0"), Float.NaN);
                    return null;
                });
            }
            return loss;
        }
    }

    /** What was not finite: the gradients (all their names) or the loss and where the forward pass first went bad. */
    private String nonFinite(SuperTransformer model, Adam adam, ArchConfig config, Batch batch, int seed, float loss) {
        if (Float.isFinite(loss)) {
            List<String> bad = adam.nonFiniteGradients(model.parameterMap());
            if (bad.isEmpty()) {
                return "gradient norm (every gradient finite, their squares overflow float)";
            }
            return "gradient of " + (bad.size() <= 4 ? bad.toString()
                    : bad.size() + " parameters " + bad.subList(0, 3) + " ... " + bad.get(bad.size() - 1));
        }
        Engine.getInstance().setRandomSeed(seed); // the same dropout masks as the failed forward
        return "loss " + loss + ", first non-finite: " + model.firstNonFinite(config, batch, true, opt.labelSmoothing());
    }

    /** A batch as a log names it: its index in the batch list, the epoch, its size. */
    private String describe(List<Batch> train, long step, Batch batch) {
        return "batch " + batchIndex(train.size(), step) + " of " + train.size() + " (epoch " + (step - 1) / train.size() + ", " + batch.size + " pairs, "
                + batch.srcLen + " x " + batch.tgtLen + " tokens)";
    }

    /** Index of the batch of a step: epoch e visits every batch once in an order seeded by (seed, e). */
    private int batchIndex(int batches, long step) {
        return Batches.epochOrder(batches, opt.seed(), (step - 1) / batches)[(int) ((step - 1) % batches)];
    }

    static String fmt(double v) {
        return String.format("%.4f", v);
    }

}
