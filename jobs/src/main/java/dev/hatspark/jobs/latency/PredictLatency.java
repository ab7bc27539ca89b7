package dev.hatspark.jobs.latency;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.ConfigInputs;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.BadInputException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.trim;

/**
 * predict-latency: scores a table of configs with a hardware id's predictor as one Spark job on the
 * executors ({@link LatencyPredictor#score}) and writes Parquet ({@code Tables.PREDICTED_LATENCY})
 * to {@code --out}, temporary then committed.
 */
@Command(name = "predict-latency", mixinStandardHelpOptions = true,
        description = "Score configs with a hardware id's latency predictor as a Spark job; writes Parquet.")
public final class PredictLatency implements Job<PredictLatency.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(PredictLatency.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--hardware-id", required = true, description = "Predictor to score with (latency/predictor/<id>/)")
    public String hardwareId;

    @Option(names = "--out", required = true, description = "Output Parquet path (any Hadoop path); replaced if it exists")
    public String out;

    @ArgGroup(exclusive = true, multiplicity = "1")
    public Input input = new Input();

    /** Where the configs come from: exactly one. */
    public static final class Input {
        @Option(names = "--configs", description = "Parquet with a config_json column, or JSON lines (one config per line)")
        public String configs;

        @Option(names = "--sweep", description = "The distinct configs of a sweep's population (sweeps/<id>/population)")
        public String sweep;

        @Option(names = "--sample", description = "N configs sampled uniformly (with replacement) from --space, on the executors")
        public Long sample;
    }

    @Option(names = "--space", description = "Design space of --sample (name or YAML); default: the predictor's, else the supernet's, else hat-wmt14")
    public String space;

    @Option(names = "--seed", description = "Seed of --sample. Default: ${DEFAULT-VALUE}")
    public long seed = 1;

    @Option(names = "--partitions", description = "Partitions of --sample; default: Spark's default parallelism")
    public Integer partitions;

    @Override
    public String name() {
        return "predict-latency";
    }

    public record Result(String out, long configs, double seconds) {
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        LatencyPredictor predictor = LatencyPredictor.load(spark, layout, hardwareId);
        Dataset<Row> configs = configs(spark, fs, layout, predictor);
        long t0 = System.nanoTime();
        spark.sparkContext().setJobDescription("predict-latency " + hardwareId + " -> " + out);
        try {
            fs.writeParquet(predictor.score(configs), Fs.requireNoCredentials(out));
        } catch (Exception e) { // SparkException is checked, though Scala throws it undeclared
            throw badInputInside(e);
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long n = spark.read().parquet(fs.current(out)).count();
        LOG.info(String.format("predict-latency: %d configs scored with %s's predictor in %.1f s (%.0f configs/s) -> %s",
                n, hardwareId, seconds, n / seconds, out));
        return new Result(out, n, seconds);
    }

    /** The configs to score, one {@code config_json} column. */
    Dataset<Row> configs(SparkSession spark, Fs fs, Layout layout, LatencyPredictor predictor) {
        if (input.sample != null) {
            if (input.sample < 1) {
                throw new BadInputException("--sample must be at least 1, got " + input.sample);
            }
            return sample(spark, predictorSpace(fs, layout, predictor), input.sample, seed, partitions != null ? partitions : spark.sparkContext().defaultParallelism());
        }
        if (input.sweep != null) {
            String population = layout.sweep(input.sweep).population();
            if (!fs.exists(population)) {
                throw new BadInputException("no sweep '" + input.sweep + "': " + population + " does not exist (sweeps: "
                        + fs.listIds(layout.sweeps()) + ")");
            }
            return spark.read().parquet(population).select("config_json").distinct();
        }
        if (!fs.exists(input.configs)) {
            throw new BadInputException(input.configs + ": no such file or folder");
        }
        String path = fs.current(input.configs); // a table written by hat-spark on S3 is a versioned folder
        // HAT SubTransformer ymls (a file or a folder) are read on the driver: they are few and hand-written
        List<String> files = fs.list(path);
        boolean yml = path.endsWith(".yml") || path.endsWith(".yaml")
                || (files.stream().anyMatch(f -> f.endsWith(".yml") || f.endsWith(".yaml"))
                    && files.stream().noneMatch(f -> f.endsWith(".parquet")));
        if (yml) {
            List<String> json = ConfigInputs.read(fs, path, predictorSpace(fs, layout, predictor)).stream()
                    .map(ArchConfig::toJson).toList();
            return spark.createDataset(json, Encoders.STRING()).toDF("config_json");
        }
        boolean parquet = path.endsWith(".parquet") || files.stream().anyMatch(f -> f.endsWith(".parquet"));
        if (parquet) {
            Dataset<Row> t = spark.read().parquet(path);
            if (!Arrays.asList(t.columns()).contains("config_json")) {
                throw new BadInputException(path + ": Parquet without a config_json column (columns: "
                        + String.join(", ", t.columns()) + ")");
            }
            return t.select("config_json");
        }
        // JSON lines: one config per non-blank line
        return spark.read().text(path).select(trim(col("value")).as("config_json")).where("config_json <> ''");
    }

    /** --space if given, else the predictor's own space, else the supernet's (hat-wmt14 without one). */
    private DesignSpace predictorSpace(Fs fs, Layout layout, LatencyPredictor predictor) {
        return space == null && predictor.spec().space() != null ? predictor.spec().space()
                : Spaces.givenOrSupernet(fs, layout, space, "hat-wmt14");
    }

    /** {@code n} configs of {@code space}, sampled on the executors; config i from its own seeded RNG. */
    public static Dataset<Row> sample(SparkSession spark, DesignSpace space, long n, long seed, int partitions) {
        String yaml = space.yaml();
        MapPartitionsFunction<Long, String> draw = ids -> {
            DesignSpace s = DesignSpace.parse(yaml, "space");
            List<String> out = new ArrayList<>();
            while (ids.hasNext()) {
                out.add(sampled(s, seed, ids.next()).toJson());
            }
            return out.iterator();
        };
        return spark.range(0, n, 1, partitions).as(Encoders.LONG()).mapPartitions(draw, Encoders.STRING())
                .toDF("config_json");
    }

    /** Config {@code i} of {@link #sample}: a function of (seed, i) only, so any partitioning draws the same configs. */
    public static ArchConfig sampled(DesignSpace space, long seed, long i) {
        return Genetics.sample(space, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i));
    }

    /** A bad config found inside a Spark task surfaces as a SparkException: report its one line. */
    private Exception badInputInside(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadInputException b) {
                String source = input.configs != null ? input.configs : input.sweep != null ? "sweep " + input.sweep : "sample";
                return new BadInputException(source + ": " + b.getMessage());
            }
        }
        return e;
    }
}
