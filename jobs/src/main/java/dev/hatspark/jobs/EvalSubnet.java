package dev.hatspark.jobs;

import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * eval-subnet: validation loss of SubTransformers with inherited weights, sharded over executors that
 * each load the checkpoint once; results are merged into the {@code evaluations/} cache table.
 */
@Command(name = "eval-subnet", mixinStandardHelpOptions = true,
        description = "Validation loss (mean token NLL) of SubTransformers with inherited SuperTransformer weights.")
public final class EvalSubnet implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(EvalSubnet.class);

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--checkpoint", description = "Checkpoint directory; default: the newest under <root>/supernet/checkpoints")
    String checkpoint;

    @Option(names = "--config", description = "A config as JSON (repeatable)")
    List<String> configs = new ArrayList<>();

    @Option(names = "--largest", description = "Evaluate the largest SubTransformer")
    boolean largest;

    @Option(names = "--smallest", description = "Evaluate the smallest SubTransformer")
    boolean smallest;

    @Option(names = "--sample", description = "Evaluate N uniformly sampled configs. Default: ${DEFAULT-VALUE}")
    int sample = 0;

    @Option(names = "--seed", description = "Seed of --sample. Default: ${DEFAULT-VALUE}")
    long seed = 7;

    @Option(names = "--max-tokens", description = "Token budget of an evaluation batch. Default: ${DEFAULT-VALUE}")
    int maxTokens = 4096;

    @Option(names = "--max-len", description = "Validation pairs up to this many tokens per side. Default: ${DEFAULT-VALUE}")
    int maxLen = 256;

    @Override
    public String name() {
        return "eval-subnet";
    }

    /** One evaluated config. */
    public record Evaluation(String configHash, String configJson, double valLoss, double evalMs) implements java.io.Serializable {
    }

    @Override
    public Object run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = checkpoint != null ? checkpoint : Checkpoints.latestOf(fs, layout);
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        DesignSpace ds = DesignSpace.parse(state.spaceYaml(), ckpt + "/state.json");
        Set<ArchConfig> todo = new LinkedHashSet<>();
        for (String json : configs) {
            todo.add(ArchConfig.fromJson(json).validate(ds));
        }
        if (largest) {
            todo.add(ds.largest());
        }
        if (smallest) {
            todo.add(ds.smallest());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < sample; i++) {
            todo.add(Genetics.sample(ds, rng));
        }
        if (todo.isEmpty()) {
            throw new IllegalArgumentException("nothing to evaluate: give --config, --largest, --smallest or --sample N");
        }
        List<int[][]> valid = Corpus.pairs(spark, layout, "valid", maxLen, 0);
        String validId = CorpusMeta.read(fs, layout).tgtVocabFingerprint() + ":valid:" + valid.size() + ":" + maxLen;
        List<Evaluation> results = evaluate(spark, ckpt, validId, valid, new ArrayList<>(todo), maxTokens);
        String checkpointId = Checkpoints.name(state.step()) + "@" + ckpt;
        List<Row> rows = new ArrayList<>();
        for (Evaluation e : results) {
            LOG.info("val_loss {} ({} ms) {}", String.format("%.4f", e.valLoss()), Math.round(e.evalMs()), e.configJson());
            rows.add(RowFactory.create(e.configHash(), checkpointId, validId, e.valLoss(), e.configJson(), e.evalMs()));
        }
        StructType schema = new StructType()
                .add("config_hash", DataTypes.StringType, false)
                .add("checkpoint_id", DataTypes.StringType, false)
                .add("valid_set_id", DataTypes.StringType, false)
                .add("val_loss", DataTypes.DoubleType, false)
                .add("config_json", DataTypes.StringType, false)
                .add("eval_ms", DataTypes.DoubleType, false);
        Dataset<Row> fresh = spark.createDataFrame(rows, schema);
        Dataset<Row> merged = fs.exists(layout.evaluations())
                ? spark.read().schema(schema).parquet(layout.evaluations()).unionByName(fresh)
                : fresh;
        // evaluations are deterministic: one row per (config, checkpoint, validation set), rerun-safe
        fs.writeParquet(merged.dropDuplicates("config_hash", "checkpoint_id", "valid_set_id").coalesce(1),
                layout.evaluations());
        return results;
    }

    /** Shards configs over executors; each executor evaluates with its cached model. */
    static List<Evaluation> evaluate(SparkSession spark, String ckpt, String validId, List<int[][]> valid,
                                     List<ArchConfig> configs, int maxTokens) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<int[][]>> validB = jsc.broadcast(valid);
        List<String> json = configs.stream().map(ArchConfig::toJson).toList();
        int slices = Math.max(1, Math.min(json.size(), jsc.defaultParallelism()));
        return jsc.parallelize(json, slices).mapPartitions(it -> {
            SubnetEvaluator ev = ExecutorModels.evaluator(ckpt, validId, validB.value(), maxTokens);
            List<Evaluation> out = new ArrayList<>();
            while (it.hasNext()) {
                ArchConfig c = ArchConfig.fromJson(it.next());
                long t0 = System.nanoTime();
                double loss = ev.validLoss(c);
                out.add(new Evaluation(c.hash(), c.toJson(), loss, (System.nanoTime() - t0) / 1e6));
            }
            return out.iterator();
        }).collect();
    }
}
