package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import dev.hatspark.model.Adam;
import dev.hatspark.model.Batches;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.SupernetTrainer;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Trains one SubTransformer on its own with the SuperTransformer's recipe ({@link SupernetTrainer}
 * with a fixed config), either from scratch or fine-tuned from inherited SuperTransformer weights,
 * into {@code subnets/<config_hash>/<init>/checkpoints/}; resumes from the newest checkpoint. Runs
 * on the driver (train-subnet) or inside a Spark task (validate-supernet): no Spark here.
 *
 * <p>"From scratch" is a freshly initialised SuperTransformer of the same space in which only this
 * config is ever trained (HAT's train-subtransformer mode): the forward, dropout scaling and
 * checkpoint format are the SuperTransformer's, and the weights outside the config's slice never
 * change (Adam skips tensors without gradients; slices it never reads get zero gradients).
 */
final class SubnetTraining {
    private static final Logger LOG = LoggerFactory.getLogger(SubnetTraining.class);
    static final String SCRATCH = "scratch";
    static final String INHERITED = "inherited";

    /** The recipe; everything but {@code steps} must match to resume a checkpoint. */
    record Recipe(long steps, float lr, int warmup, float labelSmoothing, long seed, int maxTokens, int maxLen,
                  int validEvery, int checkpointEvery, int logEvery, int keepCheckpoints) implements Serializable {
        String resumeKey() {
            return "lr=" + lr + " warmup=" + warmup + " label_smoothing=" + labelSmoothing + " seed=" + seed
                    + " max_tokens=" + maxTokens + " max_len=" + maxLen;
        }

        SupernetTrainer.Options options() {
            return new SupernetTrainer.Options(steps, lr, warmup, labelSmoothing, seed, validEvery, checkpointEvery, logEvery);
        }
    }

    /** One row of subnets/<hash>/<init>/metrics. */
    record Metrics(long step, Double trainLoss, double validLoss, double tokensPerS) implements Serializable {
    }

    /** state.json of a SubTransformer checkpoint (a superset of {@link Checkpoints.ModelInfo}). */
    record State(long step, String configJson, String init, String initFrom, String recipe, String spaceYaml,
                 int srcVocab, int tgtVocab, String srcVocabFingerprint, String tgtVocabFingerprint,
                 List<Metrics> metrics) {
    }

    /** What a training left: the newest checkpoint and its metrics. */
    record Outcome(String configHash, String init, long step, String checkpoint, List<Metrics> metrics) implements Serializable {
        double validLoss() {
            return metrics.get(metrics.size() - 1).validLoss();
        }
    }

    private SubnetTraining() {
    }

    /** The newest checkpoint of a trained SubTransformer, if any. */
    static Optional<String> latest(Fs fs, Layout layout, String configHash, String init) {
        return new Checkpoints(fs, Fs.join(layout.subnet(configHash, init), "checkpoints")).latest();
    }

    /**
     * Trains {@code config} to {@code recipe.steps()} (resuming when a checkpoint exists).
     * {@code supernetCheckpoint} is the source of inherited weights; null trains from scratch in {@code space}.
     */
    static Outcome train(Fs fs, Layout layout, ArchConfig config, DesignSpace space, String supernetCheckpoint, Recipe recipe,
                         CorpusMeta corpus, List<int[][]> train, List<int[][]> valid) throws Exception {
        String init = supernetCheckpoint == null ? SCRATCH : INHERITED;
        String dir = layout.subnet(config.hash(), init);
        Checkpoints store = new Checkpoints(fs, Fs.join(dir, "checkpoints"));
        Optional<String> latest = store.latest();
        String initFrom = supernetCheckpoint == null ? null : Checkpoints.name(Checkpoints.readState(fs, supernetCheckpoint).step())
                + ":" + Checkpoints.sha(fs.read(Fs.join(supernetCheckpoint, "model.ndlist")));
        config.validate(space);
        try (NDManager root = NDManager.newBaseManager(); Adam adam = Adam.hat(root)) {
            SuperTransformer model;
            long start = 0;
            List<Metrics> previous = new ArrayList<>();
            if (latest.isPresent()) {
                State st = Checkpoints.readState(fs, latest.get(), State.class);
                checkResumable(st, latest.get(), initFrom, recipe, corpus);
                model = Checkpoints.loadModel(fs, latest.get(), root);
                adam.load(fs.read(Fs.join(latest.get(), "optimizer.ndlist")));
                start = st.step();
                previous.addAll(st.metrics());
                if (start >= recipe.steps()) {
                    LOG.info("{} {} already trained to step {} (>= {} steps)", config.hash(), init, start, recipe.steps());
                    return new Outcome(config.hash(), init, start, latest.get(), previous);
                }
                LOG.info("{} {}: resuming from {}", config.hash(), init, latest.get());
            } else if (supernetCheckpoint != null) {
                model = Checkpoints.loadModel(fs, supernetCheckpoint, root);
            } else {
                model = SuperTransformer.create(space, corpus.srcVocabSize(), corpus.tgtVocabSize(), recipe.seed(), root);
            }
            LOG.info("training SubTransformer {} ({}, {} parameters) to step {}", config.hash(), init,
                    model.parameterCount(config), recipe.steps());
            SubnetEvaluator evaluator = new SubnetEvaluator(model, Batches.byTokens(valid, recipe.maxTokens()));
            String[] last = new String[1];
            List<Metrics> metrics = new SupernetTrainer(recipe.options()).train(model, adam,
                    Batches.byTokens(train, recipe.maxTokens()), SupernetTrainer.Sampler.fixed(config),
                    (step, trainLoss, tps) -> {
                        Metrics m = new Metrics(step, trainLoss, evaluator.validLoss(config), tps);
                        LOG.info("{} {} step {}/{}: train loss {} valid loss {}", config.hash(), init, step, recipe.steps(),
                                trainLoss == null ? "-" : String.format("%.4f", trainLoss), String.format("%.4f", m.validLoss()));
                        return m;
                    }, start, previous, (step, m, a, rows) -> {
                        store.save(step, new State(step, config.toJson(), init, initFrom, recipe.resumeKey(), space.yaml(),
                                corpus.srcVocabSize(), corpus.tgtVocabSize(), corpus.srcVocabFingerprint(),
                                corpus.tgtVocabFingerprint(), rows), m, a, recipe.keepCheckpoints());
                        last[0] = Fs.join(dir, "checkpoints", Checkpoints.name(step));
                    });
            return new Outcome(config.hash(), init, recipe.steps(), last[0], metrics);
        }
    }

    private static void checkResumable(State st, String where, String initFrom, Recipe recipe, CorpusMeta corpus) {
        if (!st.recipe().equals(recipe.resumeKey())) {
            throw new IllegalArgumentException("checkpoint " + where + " was trained with " + st.recipe() + ", not "
                    + recipe.resumeKey() + ": use the same options or delete " + where.replaceAll("/checkpoints/.*", ""));
        }
        if (initFrom != null && !initFrom.equals(st.initFrom())) {
            throw new IllegalArgumentException("checkpoint " + where + " was fine-tuned from SuperTransformer " + st.initFrom()
                    + ", not " + initFrom + ": delete " + where.replaceAll("/checkpoints/.*", "") + " to fine-tune again");
        }
        if (!st.tgtVocabFingerprint().equals(corpus.tgtVocabFingerprint())) {
            throw new IllegalArgumentException("checkpoint " + where + " was trained with another vocabulary than corpus/ has now");
        }
    }
}
