package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import dev.hatspark.model.Torch;
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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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
public final class TrainSupernet implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(TrainSupernet.class);

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--space", description = "Design space: a built-in name (demo, hat-wmt14) or a YAML file on any Hadoop path. Default: ${DEFAULT-VALUE}")
    String space = "demo";

    @Option(names = "--steps", description = "Total updates (a resumed run stops here too). Default: ${DEFAULT-VALUE}")
    long steps = 2000;

    @Option(names = "--max-tokens", description = "Token budget of a batch (padded). Default: ${DEFAULT-VALUE}")
    int maxTokens = 3072;

    @Option(names = "--lr", description = "Peak learning rate. Default: ${DEFAULT-VALUE}")
    float lr = 1e-3f;

    @Option(names = "--warmup", description = "Warm-up updates. Default: ${DEFAULT-VALUE}")
    int warmup = 400;

    @Option(names = "--label-smoothing", description = "Default: ${DEFAULT-VALUE}")
    float labelSmoothing = 0.1f;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    long seed = 1;

    @Option(names = "--max-len", description = "Drop training pairs longer than this many tokens per side. Default: ${DEFAULT-VALUE}")
    int maxLen = 96;

    @Option(names = "--valid-sentences", description = "Validation pairs used for the training curve (0 = all). Default: ${DEFAULT-VALUE}")
    int validSentences = 0;

    @Option(names = "--valid-every", description = "Default: ${DEFAULT-VALUE}")
    int validEvery = 250;

    @Option(names = "--checkpoint-every", description = "Default: ${DEFAULT-VALUE}")
    int checkpointEvery = 250;

    @Option(names = "--keep-checkpoints", description = "Default: ${DEFAULT-VALUE}")
    int keepCheckpoints = 3;

    @Option(names = "--log-every", description = "Default: ${DEFAULT-VALUE}")
    int logEvery = 50;

    @Option(names = "--threads", description = "PyTorch intra-op threads (0 = all cores). Default: ${DEFAULT-VALUE}")
    int threads = 0;

    @Override
    public String name() {
        return "train-supernet";
    }

    static DesignSpace loadSpace(Fs fs, String spec) {
        if (spec.matches("[A-Za-z0-9_-]+")) {
            return DesignSpace.builtin(spec);
        }
        if (!fs.exists(spec)) {
            throw new IllegalArgumentException("design space file " + spec + " does not exist");
        }
        return DesignSpace.parse(fs.readText(spec), spec);
    }

    @Override
    public Object run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        DesignSpace ds = loadSpace(fs, space);
        Torch.threads(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), 0);
        List<int[][]> train = Corpus.pairs(spark, layout, "train", maxLen, 0);
        List<int[][]> valid = Corpus.pairs(spark, layout, "valid", maxLen, validSentences);
        LOG.info("train-supernet: space {}, {} train pairs, {} valid pairs, {} steps", ds.name, train.size(), valid.size(), steps);
        Checkpoints store = new Checkpoints(fs, layout.checkpoints());
        SupernetTrainer.Options opt = new SupernetTrainer.Options(steps, lr, warmup, labelSmoothing, seed,
                validEvery, checkpointEvery, logEvery);
        try (NDManager root = NDManager.newBaseManager()) {
            Optional<String> latest = store.latest();
            SuperTransformer model;
            Adam adam = Adam.hat(root);
            long start = 0;
            List<Metrics> metrics = new ArrayList<>();
            if (latest.isPresent()) {
                Checkpoints.Loaded loaded = Checkpoints.load(fs, latest.get(), root);
                checkCompatible(loaded.state(), ds, corpus, latest.get());
                model = loaded.model();
                adam.load(fs.read(Fs.join(latest.get(), "optimizer.ndlist")));
                start = loaded.state().step();
                metrics.addAll(loaded.state().metrics());
                LOG.info("resuming from {} (step {})", latest.get(), start);
            } else {
                model = SuperTransformer.create(ds, corpus.srcVocabSize(), corpus.tgtVocabSize(), seed, root);
                LOG.info("new SuperTransformer: {} parameters", model.parameterCount());
            }
            if (start >= steps) {
                LOG.info("already trained to step {} (>= --steps {}): nothing to do", start, steps);
                return new Result(start, metrics.get(metrics.size() - 1));
            }
            SubnetEvaluator evaluator = new SubnetEvaluator(model, Batches.byTokens(valid, maxTokens));
            List<Metrics> all = new SupernetTrainer(opt).train(model, adam, Batches.byTokens(train, maxTokens),
                    evaluator, start, metrics, (step, m, a, rows) -> {
                        store.save(new Checkpoints.State(step, seed, ds.yaml(), corpus.srcVocabSize(), corpus.tgtVocabSize(),
                                corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), rows), m, a, keepCheckpoints);
                        writeMetrics(spark, fs, layout, rows);
                        LOG.info("checkpoint {} written", Checkpoints.name(step));
                    });
            return new Result(steps, all.get(all.size() - 1));
        }
    }

    /** The summary the CLI prints. */
    public record Result(long step, Metrics last) {
    }

    private static void checkCompatible(Checkpoints.State s, DesignSpace ds, CorpusMeta corpus, String where) {
        if (!s.spaceYaml().equals(ds.yaml())) {
            throw new IllegalArgumentException("checkpoint " + where + " was trained on another design space than '"
                    + ds.name + "': use another --root or the same --space");
        }
        if (!s.srcVocabFingerprint().equals(corpus.srcVocabFingerprint())
                || !s.tgtVocabFingerprint().equals(corpus.tgtVocabFingerprint())) {
            throw new IllegalArgumentException("checkpoint " + where + " was trained with another vocabulary than corpus/ has now");
        }
    }

    static void writeMetrics(SparkSession spark, Fs fs, Layout layout, List<Metrics> rows) {
        List<Row> data = new ArrayList<>();
        for (Metrics m : rows) {
            data.add(RowFactory.create(m.step(), m.trainLoss(), m.validLossLargest(), m.validLossSmallest(), m.tokensPerS()));
        }
        StructType schema = new StructType()
                .add("step", DataTypes.LongType, false)
                .add("train_loss", DataTypes.DoubleType, true)
                .add("valid_loss_largest", DataTypes.DoubleType, false)
                .add("valid_loss_smallest", DataTypes.DoubleType, false)
                .add("tokens_per_s", DataTypes.DoubleType, false);
        fs.writeParquet(spark.createDataFrame(data, schema).coalesce(1), layout.supernetMetrics());
    }
}
