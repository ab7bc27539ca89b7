package dev.hatspark.jobs;

import dev.hatspark.latency.Device;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.latency.ProtocolOptions;
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.Measurer;
import dev.hatspark.model.Torch;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.Progress;
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

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * measure-latency: times sampled SubTransformers with real DJL inference on the executors' CPUs
 * (HAT's protocol, {@link LatencyProtocol}) and appends the rows to {@code latency/measurements/},
 * partitioned by hardware id. Work is committed in chunks: an interrupted run keeps every finished
 * chunk, and a rerun skips configs already measured on the same hardware.
 */
@Command(name = "measure-latency", mixinStandardHelpOptions = true,
        description = "Measure SubTransformer latency on the executors' hardware into latency/measurements/.")
public final class MeasureLatency implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(MeasureLatency.class);

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--space", description = "Design space (built-in name or YAML path); default: the trained supernet's, else demo")
    String space;

    @Option(names = "--samples", description = "Configs to sample. Default: ${DEFAULT-VALUE}")
    int samples = 2000;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    long seed = 1;

    @Option(names = "--vocab-size", description = "Output vocabulary of the timed model; default: the corpus', else 8000")
    Integer vocabSize;

    @Mixin
    ProtocolOptions protocolOptions = new ProtocolOptions();

    @Option(names = "--chunk", description = "Configs per committed chunk. Default: ${DEFAULT-VALUE}")
    int chunk = 100;

    @Option(names = "--threads", description = "PyTorch threads of one timing (0 = spark.task.cpus). Default: ${DEFAULT-VALUE}")
    int threads = 0;

    @Option(names = "--parallel", description = "Timing tasks at once (0 = one per task slot). On SMT machines, where two"
            + " vCPUs share a physical core, concurrent timings disturb each other: use 1, or spark.task.cpus=2 with --threads 1."
            + " Default: ${DEFAULT-VALUE}")
    int parallel = 0;

    @Override
    public String name() {
        return "measure-latency";
    }

    /** The result the CLI prints. */
    public record Result(int sampled, int skipped, long measured, String table) {
    }

    /** The Spark schema of {@link Measurement#COLUMNS}. */
    static StructType schema() {
        StructType s = new StructType();
        for (Measurement.Column c : Measurement.COLUMNS) {
            s = s.add(c.name(), switch (c.type()) {
                case STRING -> DataTypes.StringType;
                case INT -> DataTypes.IntegerType;
                case DOUBLE -> DataTypes.DoubleType;
                case BOOLEAN -> DataTypes.BooleanType;
                case TIMESTAMP -> DataTypes.TimestampType;
            }, c.nullable());
        }
        return s;
    }

    /** A measurement as a Spark row of {@link #schema()}. */
    static Row row(Measurement m) {
        Object[] v = m.values();
        for (int i = 0; i < v.length; i++) {
            if (v[i] instanceof Instant t) {
                v[i] = Timestamp.from(t);
            }
        }
        return RowFactory.create(v);
    }

    @Override
    public Object run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        DesignSpace ds = resolveSpace(fs, layout);
        int vocab = vocabSize != null ? vocabSize
                : fs.exists(layout.corpusMeta()) ? CorpusMeta.read(fs, layout).tgtVocabSize() : 8000;
        LatencyProtocol protocol = protocolOptions.protocol();
        if (samples < 1 || chunk < 1) {
            throw new IllegalArgumentException("--samples and --chunk must be at least 1");
        }
        List<ArchConfig> configs = Genetics.sampleDistinct(ds, samples, seed);
        Map<String, Set<String>> done = measured(spark, fs, layout);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, Set<String>>> doneB = jsc.broadcast(done);
        String yaml = ds.yaml();
        List<String> todo = configs.stream().map(ArchConfig::toJson).toList();
        long measured = 0;
        int skipped = 0;
        long t0 = System.nanoTime();
        for (int from = 0; from < todo.size(); from += chunk) {
            List<String> part = todo.subList(from, Math.min(todo.size(), from + chunk));
            int slices = Math.max(1, Math.min(part.size(), parallel > 0 ? parallel : jsc.defaultParallelism()));
            int torchThreads = threads;
            List<Row> rows = jsc.parallelize(part, slices)
                    .mapPartitions(it -> timeAll(it, yaml, vocab, protocol, torchThreads, doneB.value()))
                    .collect();
            skipped += part.size() - rows.size();
            if (!rows.isEmpty()) {
                // one file per chunk: the append then appears whole, also on S3 (Fs)
                Dataset<Row> df = spark.createDataFrame(rows, schema()).coalesce(1);
                fs.appendParquet(df, layout.latencyMeasurements(), "hardware_id");
            }
            measured += rows.size();
            int finished = Math.min(todo.size(), from + chunk);
            double perConfig = (System.nanoTime() - t0) / 1e9 / finished;
            LOG.info("measure-latency: {}/{} configs ({} measured, {} already there), ETA {}", finished, todo.size(),
                    measured, skipped, Progress.eta(perConfig * (todo.size() - finished)));
        }
        return new Result(todo.size(), skipped, measured, layout.latencyMeasurements());
    }

    private DesignSpace resolveSpace(Fs fs, Layout layout) {
        if (space != null) {
            return TrainSupernet.loadSpace(fs, space);
        }
        return new Checkpoints(fs, layout.checkpoints()).latest()
                .map(c -> Checkpoints.readState(fs, c).space(c))
                .orElseGet(() -> DesignSpace.builtin("demo"));
    }

    /** hardware id → config hashes already in the table. */
    private static Map<String, Set<String>> measured(SparkSession spark, Fs fs, Layout layout) {
        Map<String, Set<String>> done = new HashMap<>();
        if (!fs.exists(layout.latencyMeasurements())) {
            return done;
        }
        for (Row r : spark.read().parquet(layout.latencyMeasurements()).select("hardware_id", "config_hash")
                .distinct().collectAsList()) {
            done.computeIfAbsent(r.getString(0), k -> new HashSet<>()).add(r.getString(1));
        }
        return done;
    }

    static final double WARMUP_SECONDS = Double.parseDouble(System.getProperty("hat.latency.warmupSeconds", "5"));

    /** Runs in a task: one timing at a time on this task's cores. */
    private static java.util.Iterator<Row> timeAll(java.util.Iterator<String> it, String yaml, int vocab,
                                                   LatencyProtocol protocol, int threads,
                                                   Map<String, Set<String>> done) {
        Torch.threads(threads > 0 ? threads : Hardware.taskCpus(), 1);
        Device device = Device.detect();
        Set<String> skip = done.getOrDefault(device.hardwareId(), Set.of());
        Measurer measurer = Measurer.of(DesignSpace.parse(yaml, "design space"), vocab, protocol, WARMUP_SECONDS);
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            ArchConfig c = ArchConfig.fromJson(it.next());
            if (!skip.contains(c.hash())) {
                out.add(row(measurer.measure(c, device)));
            }
        }
        return out.iterator();
    }
}
