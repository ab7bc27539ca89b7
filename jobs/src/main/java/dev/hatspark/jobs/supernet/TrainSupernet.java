package dev.hatspark.jobs.supernet;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.jobs.cli.RecipeOptions;
import dev.hatspark.model.TrainingRecipe;
import ai.djl.ndarray.NDManager;
import dev.hatspark.model.Adam;
import dev.hatspark.model.Batches;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.SupernetTrainer;
import dev.hatspark.model.SupernetTrainer.Metrics;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * train-supernet: trains the weight-sharing SuperTransformer on the driver (one model, one process,
 * as HAT does), checkpointing to the run root and resuming from the newest checkpoint when restarted.
 */
@Command(name = "train-supernet", mixinStandardHelpOptions = true,
        description = "Train the SuperTransformer (one uniformly sampled SubTransformer per step); resumes from the last checkpoint.")
public final class TrainSupernet implements Job<TrainSupernet.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainSupernet.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--space", description = "Design space: a built-in name (demo, hat-wmt14) or a YAML file on any Hadoop path. Default: ${DEFAULT-VALUE}")
    public String space = "demo";

    @Mixin
    public RecipeOptions recipe = new RecipeOptions();

    @Override
    public String name() {
        return "train-supernet";
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        TrainingRecipe r = recipe.recipe();
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        DesignSpace ds = DesignSpace.resolve(space, fs::exists, fs::readText);
        recipe.useThreads();
        List<int[][]> train = Corpus.pairs(spark, layout, "train", r.maxLen(), 0);
        List<int[][]> valid = Corpus.validation(spark, layout, recipe.validSentences).pairs();
        LOG.info("train-supernet: space {}, {} train pairs, {} valid pairs, {} steps", ds.name, train.size(), valid.size(), r.steps());
        Checkpoints store = new Checkpoints(fs, layout.checkpoints());
        try (NDManager root = NDManager.newBaseManager()) {
            Optional<String> latest = store.latest();
            SuperTransformer model;
            Adam adam = Adam.hat(root);
            long start = 0;
            List<Metrics> metrics = new ArrayList<>();
            if (latest.isPresent()) {
                Checkpoints.State state = Checkpoints.readState(fs, latest.get());
                checkCompatible(state, ds, corpus, latest.get());
                model = Checkpoints.loadModel(fs, latest.get(), root);
                Checkpoints.loadOptimizer(fs, latest.get(), adam);
                start = state.step();
                metrics.addAll(state.metrics());
                if (!metrics.isEmpty()) {
                    // the checkpoint commits before the metrics table is rewritten: a kill between the two left the
                    // table a row short, so it is rewritten from the checkpoint's own curve
                    writeMetrics(spark, fs, layout, metrics);
                }
                LOG.info("resuming from {} (step {})", latest.get(), start);
            } else {
                model = SuperTransformer.create(ds, corpus.srcVocabSize(), corpus.tgtVocabSize(), r.seed(), root);
                LOG.info("new SuperTransformer: {} parameters", model.parameterCount());
            }
            if (start >= r.steps()) {
                LOG.info("already trained to step {} (>= --steps {}): nothing to do", start, r.steps());
                // an imported checkpoint (import-hat-supernet) has no training curve
                return new Result(start, metrics.isEmpty() ? null : metrics.get(metrics.size() - 1));
            }
            SubnetEvaluator evaluator = new SubnetEvaluator(model, Batches.byTokens(valid, r.maxTokens()));
            List<Metrics> all;
            try {
                all = new SupernetTrainer(r.options()).train(model, adam, Batches.byTokens(train, r.maxTokens()),
                    evaluator, start, metrics, (step, m, a, rows) -> {
                        String saved = store.save(step, new Checkpoints.State(step, r.seed(), ds.yaml(), corpus.srcVocabSize(),
                                corpus.tgtVocabSize(), corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), rows), m, a,
                                r.keepCheckpoints());
                        writeMetrics(spark, fs, layout, rows);
                        LOG.info("checkpoint {} written", saved);
                    });
            } catch (SupernetTrainer.DivergedException e) {
                throw new BadInputException(e.getMessage() + "; to resume from the newest checkpoint, run train-supernet again"
                        + " on this --root with a lower --lr (e.g. " + r.lr() / 2 + ") or --clip-norm 1");
            }
            return new Result(r.steps(), all.get(all.size() - 1));
        }
    }

    /** The summary the CLI prints. */
    public record Result(long step, Metrics last) {
    }

    private static void checkCompatible(Checkpoints.State s, DesignSpace ds, CorpusMeta corpus, String where) {
        if (!s.spaceYaml().equals(ds.yaml())) {
            throw new BadInputException("checkpoint " + where + " was trained on another design space than '"
                    + ds.name + "': use another --root or the same --space");
        }
        s.requireVocabulary(corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), where);
    }

    private static void writeMetrics(SparkSession spark, Fs fs, Layout layout, List<Metrics> rows) {
        List<Row> data = new ArrayList<>();
        for (Metrics m : rows) {
            data.add(RowFactory.create(m.step(), m.trainLoss(), m.gradNorm(), m.validLossLargest(), m.validLossSmallest(), m.tokensPerS()));
        }
        fs.writeParquet(spark.createDataFrame(data, Tables.SUPERNET_METRICS).coalesce(1), layout.supernetMetrics());
    }
}
