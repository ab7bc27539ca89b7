package dev.hatspark.jobs.supernet;

import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.CheckpointOption;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.model.TrainingRecipe;
import dev.hatspark.jobs.cli.RecipeOptions;
import dev.hatspark.jobs.subnet.SubnetTraining;
import dev.hatspark.latency.Accuracy;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.Progress;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * validate-supernet: HAT's check that weight sharing ranks SubTransformers the way training them
 * on their own would. For K sampled configs, the validation loss with inherited SuperTransformer
 * weights (the evaluations/ cache) against the loss after training each from scratch with the same
 * recipe, on the driver like train-supernet (several trainings in one JVM would share PyTorch's global
 * random generator, and dropout would depend on thread timing), each checkpointed under
 * subnets/<hash>/scratch so a rerun resumes; prints and stores Kendall's tau between the two.
 */
@Command(name = "validate-supernet", mixinStandardHelpOptions = true,
        description = "Kendall tau between inherited-weight and trained-from-scratch validation loss of K sampled SubTransformers.")
public final class ValidateSupernet implements Job<ValidateSupernet.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(ValidateSupernet.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Mixin
    public RecipeOptions recipe = new RecipeOptions();

    @Option(names = "--samples", description = "K, the number of sampled configs. Default: ${DEFAULT-VALUE}")
    public int samples = 10;

    @Option(names = "--sample-seed", description = "Seed of the sampled configs. Default: ${DEFAULT-VALUE}")
    public long sampleSeed = 17;

    @Mixin
    public CheckpointOption checkpoint = new CheckpointOption();

    @Override
    public String name() {
        return "validate-supernet";
    }

    /** The summary the CLI prints. */
    public record Result(int k, long steps, double kendallTau, Map<String, double[]> losses) {
        @Override
        public String toString() {
            return String.format("Kendall tau %.3f over K = %d configs (inherited vs %d steps from scratch)", kendallTau, k, steps);
        }
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        if (samples < 2) {
            throw new BadInputException("--samples must be at least 2 to rank anything, got " + samples);
        }
        TrainingRecipe r = recipe.recipe();
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        String ckpt = checkpoint.resolve(fs, layout);
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        state.requireVocabulary(corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), ckpt);
        DesignSpace space = state.space(ckpt);
        List<ArchConfig> configs = Genetics.sampleDistinct(space, samples, sampleSeed);

        // inherited weights: through the evaluations/ cache, as eval-subnet and sweep use it
        Evaluations.Key key = Evaluations.key(spark, layout, ckpt, recipe.validSentences, r.maxTokens());
        Map<String, Double> inherited = new HashMap<>(Evaluations.cached(spark, layout, key));
        List<ArchConfig> missing = configs.stream().filter(c -> !inherited.containsKey(c.hash())).toList();
        List<Evaluations.Evaluation> fresh = Evaluations.evaluate(spark, key, missing, space.qkvDim, state.tgtVocab());
        Evaluations.append(spark, layout, key, fresh, "validate-supernet");
        fresh.forEach(e -> inherited.put(e.configHash(), e.valLoss()));

        // from scratch: rows already stored for this checkpoint, validation set, steps and recipe are kept
        Map<String, Double> scratch = new HashMap<>();
        if (fs.exists(layout.validationConfigs())) {
            for (Row row : spark.read().schema(Tables.VALIDATION_CONFIGS).parquet(layout.validationConfigs())
                    .where(col("checkpoint_id").equalTo(key.checkpointId()).and(col("valid_set_id").equalTo(key.validSetId()))
                            .and(col("scratch_steps").equalTo(r.steps())).and(col("recipe").equalTo(r.resumeKey())))
                    .collectAsList()) {
                scratch.put(row.getAs("config_hash"), row.getAs("scratch_loss"));
            }
        }
        List<ArchConfig> toTrain = configs.stream().filter(c -> !scratch.containsKey(c.hash())).toList();
        LOG.info("validate-supernet: {} configs, {} inherited losses evaluated, {} to train from scratch for {} steps",
                configs.size(), fresh.size(), toTrain.size(), r.steps());
        recipe.useThreads();
        List<int[][]> train = toTrain.isEmpty() ? List.of() : Corpus.pairs(spark, layout, "train", r.maxLen(), 0);
        long t0 = System.nanoTime();
        for (int i = 0; i < toTrain.size(); i++) {
            ArchConfig c = toTrain.get(i);
            long t1 = System.nanoTime();
            SubnetTraining.Outcome o = SubnetTraining.train(fs, layout, c, space, null, r, corpus, train, key.valid());
            scratch.put(c.hash(), o.validLoss());
            // one row per finished config: an interrupted run keeps it, and the next one resumes the rest
            fs.appendParquet(spark.createDataFrame(List.of(RowFactory.create(c.hash(), inherited.get(c.hash()), o.validLoss(),
                    r.steps(), key.checkpointId(), key.validSetId(), r.resumeKey(), c.toJson(), (System.nanoTime() - t1) / 1e9)),
                    Tables.VALIDATION_CONFIGS).coalesce(1), layout.validationConfigs());
            double perConfig = (System.nanoTime() - t0) / 1e9 / (i + 1);
            LOG.info("validate-supernet: {}/{} trained from scratch, ETA {}", i + 1, toTrain.size(),
                    Progress.eta(perConfig * (toTrain.size() - i - 1)));
        }

        double[] a = new double[configs.size()];
        double[] b = new double[configs.size()];
        Map<String, double[]> losses = new java.util.LinkedHashMap<>();
        StringBuilder log = new StringBuilder("validation loss, inherited vs from scratch (" + r.steps() + " steps):\n");
        for (int i = 0; i < configs.size(); i++) {
            String h = configs.get(i).hash();
            a[i] = inherited.get(h);
            b[i] = scratch.get(h);
            losses.put(h, new double[] {a[i], b[i]});
            log.append(String.format("  %s  %.4f  %.4f%n", h, a[i], b[i]));
        }
        double tau = Accuracy.kendallTau(a, b);
        LOG.info("{}Kendall tau {} (K = {})", log, String.format("%.3f", tau), configs.size());
        writeSummary(spark, fs, layout, new Object[] {tau, configs.size(), r.steps(), sampleSeed, key.checkpointId(),
                key.validSetId(), r.resumeKey(), configs.stream().map(ArchConfig::hash).toArray(String[]::new),
                Timestamp.from(Instant.now())});
        return new Result(configs.size(), r.steps(), tau, losses);
    }

    /** validation/summary: one row per (checkpoint, validation set, steps, recipe, seed, K); a rerun replaces its row. */
    private static void writeSummary(SparkSession spark, Fs fs, Layout layout, Object[] values) {
        Row fresh = RowFactory.create(values);
        List<Row> all = new ArrayList<>();
        if (fs.hasCurrent(layout.validationSummary())) {
            for (Row old : spark.read().schema(Tables.VALIDATION_SUMMARY).parquet(fs.current(layout.validationSummary())).collectAsList()) {
                if (!Arrays.asList(1, 2, 3, 4, 5, 6).stream().allMatch(i -> old.get(i).equals(fresh.get(i)))) {
                    all.add(old);
                }
            }
        }
        all.add(fresh);
        fs.writeParquet(spark.createDataFrame(all, Tables.VALIDATION_SUMMARY).coalesce(1), layout.validationSummary());
    }
}
