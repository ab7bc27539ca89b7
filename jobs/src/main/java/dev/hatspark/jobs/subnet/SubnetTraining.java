package dev.hatspark.jobs.subnet;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.model.TrainingRecipe;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
public final class SubnetTraining {
    private static final Logger LOG = LoggerFactory.getLogger(SubnetTraining.class);
    public static final String SCRATCH = "scratch";
    public static final String INHERITED = "inherited";

    /** One row of subnets/<hash>/<init>/metrics. */
    public record Metrics(long step, Double trainLoss, Double gradNorm, double validLoss, double tokensPerS) implements Serializable {
    }

    /** state.json of a SubTransformer checkpoint (a superset of {@link Checkpoints.ModelInfo}). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record State(long step, String configJson, String init, String initFrom, String recipe, String spaceYaml,
                 int srcVocab, int tgtVocab, String srcVocabFingerprint, String tgtVocabFingerprint,
                 List<Metrics> metrics) {
    }

    /** What a training left: the newest checkpoint and its metrics. */
    public record Outcome(String configHash, String init, long step, String checkpoint, List<Metrics> metrics) implements Serializable {
        public double validLoss() {
            return metrics.get(metrics.size() - 1).validLoss();
        }
    }

    private SubnetTraining() {
    }

    /** The newest checkpoint of a trained SubTransformer, if any. */
    public static Optional<String> latest(Fs fs, Layout layout, String configHash, String init) {
        return new Checkpoints(fs, layout.subnet(configHash, init).checkpoints()).latest();
    }

    /**
     * Trains {@code config} to {@code recipe.steps()} (resuming when a checkpoint exists).
     * {@code supernetCheckpoint} is the source of inherited weights; null trains from scratch in {@code space}.
     */
    public static Outcome train(Fs fs, Layout layout, ArchConfig config, DesignSpace space, String supernetCheckpoint, TrainingRecipe recipe,
                         CorpusMeta corpus, List<int[][]> train, List<int[][]> valid) throws Exception {
        String init = supernetCheckpoint == null ? SCRATCH : INHERITED;
        Layout.Subnet dir = layout.subnet(config.hash(), init);
        Checkpoints store = new Checkpoints(fs, dir.checkpoints());
        Optional<String> latest = store.latest();
        String initFrom = supernetCheckpoint == null ? null : Checkpoints.id(fs, supernetCheckpoint);
        config.validate(space);
        try (NDManager root = NDManager.newBaseManager(); Adam adam = Adam.hat(root)) {
            SuperTransformer model;
            long start = 0;
            List<Metrics> previous = new ArrayList<>();
            if (latest.isPresent()) {
                State st = Checkpoints.readState(fs, latest.get(), State.class);
                String problem = recipe.resumeProblem(latest.get(), dir.dir(), st.recipe(), st.initFrom(),
                        st.tgtVocabFingerprint(), initFrom, corpus.tgtVocabFingerprint());
                if (problem != null) {
                    throw new BadInputException(problem);
                }
                model = Checkpoints.loadModel(fs, latest.get(), root);
                Checkpoints.loadOptimizer(fs, latest.get(), adam);
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
            List<Metrics> metrics;
            try {
                metrics = new SupernetTrainer(recipe.options()).train(model, adam,
                    Batches.byTokens(train, recipe.maxTokens()), SupernetTrainer.Sampler.fixed(config),
                    (step, trainLoss, gradNorm, tps) -> {
                        Metrics m = new Metrics(step, trainLoss, gradNorm, evaluator.validLoss(config), tps);
                        LOG.info("{} {} step {}/{}: train loss {} valid loss {}", config.hash(), init, step, recipe.steps(),
                                trainLoss == null ? "-" : String.format("%.4f", trainLoss), String.format("%.4f", m.validLoss()));
                        return m;
                    }, start, previous, (step, m, a, rows) -> {
                        last[0] = store.save(step, new State(step, config.toJson(), init, initFrom, recipe.resumeKey(), space.yaml(),
                                corpus.srcVocabSize(), corpus.tgtVocabSize(), corpus.srcVocabFingerprint(),
                                corpus.tgtVocabFingerprint(), rows), m, a, recipe.keepCheckpoints());
                    });
            } catch (SupernetTrainer.DivergedException e) {
                // the learning rate is part of a SubTransformer checkpoint's recipe; the clip norm is not
                throw new BadInputException("SubTransformer " + config.hash() + " (" + init + "): " + e.getMessage()
                        + "; to resume from the newest checkpoint, rerun with --clip-norm 1, or delete " + dir.dir()
                        + " and rerun with a lower --lr (e.g. " + recipe.lr() / 2 + ")");
            }
            return new Outcome(config.hash(), init, recipe.steps(), last[0], metrics);
        }
    }
}
