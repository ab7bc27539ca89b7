package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.hatspark.space.ArchConfig;
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
 * HAT's SuperTransformer training: each update trains one uniformly sampled SubTransformer on one
 * token-budget batch, Adam with warm-up then inverse-sqrt decay, label-smoothed cross-entropy.
 * Everything random is a function of (seed, step), so a run resumed from a checkpoint continues
 * exactly as the uninterrupted one would.
 */
public final class SupernetTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SupernetTrainer.class);

    public record Options(long steps, float peakLr, int warmupSteps, float labelSmoothing, long seed,
                          int validEvery, int checkpointEvery, int logEvery) implements Serializable {
    }

    /** One row of supernet/metrics; {@code trainLoss} is null for the row before the first update. */
    public record Metrics(long step, Double trainLoss, double validLossLargest, double validLossSmallest,
                          double tokensPerS) implements Serializable {
    }

    /** Persists a consistent snapshot (model, optimizer, metrics so far) after {@code step} updates. */
    public interface Checkpointer {
        void save(long step, SuperTransformer model, Adam adam, List<Metrics> metrics) throws IOException;
    }

    private final Options opt;

    public SupernetTrainer(Options opt) {
        this.opt = opt;
    }

    /** Trains from {@code startStep} (0 for a fresh model) to {@code opt.steps()}; returns all metrics rows. */
    public List<Metrics> train(SuperTransformer model, Adam adam, List<Batch> train, SubnetEvaluator valid,
                               long startStep, List<Metrics> previous, Checkpointer checkpointer) throws IOException {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("training split is empty: nothing to train on");
        }
        List<Metrics> metrics = new ArrayList<>(previous);
        ArchConfig largest = model.space().largest();
        ArchConfig smallest = model.space().smallest();
        if (startStep == 0 && metrics.isEmpty()) {
            metrics.add(new Metrics(0, null, valid.validLoss(largest), valid.validLoss(smallest), 0));
            LOG.info("step 0/{}: valid loss largest {} smallest {}", opt.steps(),
                    fmt(metrics.get(0).validLossLargest()), fmt(metrics.get(0).validLossSmallest()));
        }
        long t0 = System.nanoTime();
        long windowStart = t0;
        double lossSum = 0;
        long lossSteps = 0;
        long windowTokens = 0;
        long intervalTokens = 0;
        long intervalStart = t0;
        for (long step = startStep + 1; step <= opt.steps(); step++) {
            Batch batch = batchOf(train, step);
            ArchConfig config = Genetics.sample(model.space(), new SplittableRandom(opt.seed() * 31 + step));
            Engine.getInstance().setRandomSeed((int) (opt.seed() * 7919 + step));
            float loss;
            try (NDScope ignored = new NDScope();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = model.loss(config, batch, true, opt.labelSmoothing());
                gc.backward(l);
                loss = l.getFloat();
            }
            adam.step(model.parameterMap(), LearningRate.at(step, opt.peakLr(), opt.warmupSteps()));
            if (!Float.isFinite(loss)) {
                throw new IllegalStateException("training diverged at step " + step + " (loss " + loss
                        + "); lower the learning rate");
            }
            lossSum += loss;
            lossSteps++;
            windowTokens += batch.targetTokens;
            intervalTokens += batch.targetTokens;
            if (step % opt.logEvery() == 0) {
                long now = System.nanoTime();
                double tps = windowTokens / ((now - windowStart) / 1e9);
                double perStep = (now - t0) / 1e9 / (step - startStep);
                LOG.info("step {}/{}: loss {} lr {} {} tok/s, ETA {}", step, opt.steps(), fmt(lossSum / lossSteps),
                        String.format("%.2e", LearningRate.at(step, opt.peakLr(), opt.warmupSteps())),
                        Math.round(tps), Progress.eta(perStep * (opt.steps() - step)));
                windowStart = now;
                windowTokens = 0;
            }
            boolean last = step == opt.steps();
            if (step % opt.validEvery() == 0 || last) {
                double tps = intervalTokens / ((System.nanoTime() - intervalStart) / 1e9);
                Metrics row = new Metrics(step, lossSum / lossSteps, valid.validLoss(largest), valid.validLoss(smallest), tps);
                metrics.add(row);
                LOG.info("step {}/{}: train loss {} valid loss largest {} smallest {}", step, opt.steps(),
                        fmt(row.trainLoss()), fmt(row.validLossLargest()), fmt(row.validLossSmallest()));
                lossSum = 0;
                lossSteps = 0;
                intervalTokens = 0;
                intervalStart = System.nanoTime();
            }
            if (step % opt.checkpointEvery() == 0 || last) {
                checkpointer.save(step, model, adam, metrics);
            }
        }
        return metrics;
    }

    /** Batch of a step: epoch e visits every batch once in an order seeded by (seed, e). */
    private Batch batchOf(List<Batch> train, long step) {
        long epoch = (step - 1) / train.size();
        int[] order = Batches.epochOrder(train.size(), opt.seed(), epoch);
        return train.get(order[(int) ((step - 1) % train.size())]);
    }

    private static String fmt(double v) {
        return String.format("%.4f", v);
    }

}
