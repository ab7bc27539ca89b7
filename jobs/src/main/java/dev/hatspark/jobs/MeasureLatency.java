package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import dev.hatspark.latency.Features;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.model.SuperTransformer;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

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

    @Option(names = "--src-len", description = "Default: ${DEFAULT-VALUE}")
    int srcLen = 30;

    @Option(names = "--beam", description = "Default: ${DEFAULT-VALUE}")
    int beam = 5;

    @Option(names = "--decoder-steps", description = "Default: ${DEFAULT-VALUE}")
    int steps = 30;

    @Option(names = "--warmup", description = "Untimed runs per config. Default: ${DEFAULT-VALUE}")
    int warmup = 5;

    @Option(names = "--runs", description = "Timed runs per config. Default: ${DEFAULT-VALUE}")
    int runs = 20;

    @Option(names = "--trim", description = "Share of fastest and of slowest runs dropped. Default: ${DEFAULT-VALUE}")
    double trim = 0.1;

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

    static StructType schema() {
        StructType s = new StructType()
                .add("hardware_id", DataTypes.StringType, false)
                .add("cpu_model", DataTypes.StringType, false)
                .add("threads", DataTypes.IntegerType, false)
                .add("os_arch", DataTypes.StringType, false)
                .add("djl_version", DataTypes.StringType, false)
                .add("pytorch_version", DataTypes.StringType, false)
                .add("space", DataTypes.StringType, false)
                .add("vocab_size", DataTypes.IntegerType, false)
                .add("config_hash", DataTypes.StringType, false)
                .add("config_json", DataTypes.StringType, false);
        for (String f : Features.HAT10) {
            s = s.add(f, DataTypes.DoubleType, false);
        }
        return s.add("encoder_ms", DataTypes.DoubleType, false)
                .add("decoder_ms", DataTypes.DoubleType, false)
                .add("latency_ms", DataTypes.DoubleType, false)
                .add("std_ms", DataTypes.DoubleType, false)
                .add("encoder_median_ms", DataTypes.DoubleType, false)
                .add("decoder_median_ms", DataTypes.DoubleType, false)
                .add("encoder_p90_ms", DataTypes.DoubleType, false)
                .add("decoder_p90_ms", DataTypes.DoubleType, false)
                .add("encoder_std_ms", DataTypes.DoubleType, false)
                .add("decoder_std_ms", DataTypes.DoubleType, false)
                .add("runs", DataTypes.IntegerType, false)
                .add("src_len", DataTypes.IntegerType, false)
                .add("beam", DataTypes.IntegerType, false)
                .add("decoder_steps", DataTypes.IntegerType, false)
                .add("hat10_only", DataTypes.BooleanType, false)
                .add("measured_at", DataTypes.TimestampType, false);
    }

    @Override
    public Object run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        DesignSpace ds = resolveSpace(fs, layout);
        int vocab = vocabSize != null ? vocabSize
                : fs.exists(layout.corpusMeta()) ? CorpusMeta.read(fs, layout).tgtVocabSize() : 8000;
        LatencyProtocol protocol = new LatencyProtocol(srcLen, beam, steps, warmup, runs, trim);
        if (samples < 1 || chunk < 1) {
            throw new IllegalArgumentException("--samples and --chunk must be at least 1");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        Set<ArchConfig> configs = new LinkedHashSet<>();
        for (int i = 0; i < samples * 20 && configs.size() < samples; i++) {
            configs.add(Genetics.sample(ds, rng));
        }
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
                Dataset<Row> df = spark.createDataFrame(rows, schema());
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

    private static final Map<String, SuperTransformer> MODELS = new ConcurrentHashMap<>();
    private static final NDManager ROOT = NDManager.newBaseManager();
    private static final long WARMUP_SECONDS = Long.getLong("hat.latency.warmupSeconds", 5);

    /**
     * Warms the JIT and PyTorch's allocator (once per executor JVM is enough), or the first configs of
     * a fresh executor would time slower than the rest.
     */
    static void warm(SuperTransformer m, LatencyProtocol protocol) {
        DesignSpace ds = m.space();
        long until = System.nanoTime() + WARMUP_SECONDS * 1_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < until; i++) {
            protocol.measure(m, i % 2 == 0 ? ds.largest() : ds.smallest(), i);
        }
    }

    /** Runs in a task: one timing at a time on this task's cores. */
    private static java.util.Iterator<Row> timeAll(java.util.Iterator<String> it, String yaml, int vocab,
                                                   LatencyProtocol protocol, int threads,
                                                   Map<String, Set<String>> done) {
        Torch.threads(threads > 0 ? threads : Hardware.taskCpus(), 1);
        Hardware hw = Hardware.detect();
        Set<String> skip = done.getOrDefault(hw.hardwareId(), Set.of());
        DesignSpace ds = DesignSpace.parse(yaml, "design space");
        // weights are random: latency does not depend on their values
        SuperTransformer model = MODELS.computeIfAbsent(yaml.hashCode() + ":" + vocab, k -> {
            SuperTransformer m = SuperTransformer.create(ds, vocab, vocab, 0, ROOT);
            warm(m, protocol);
            return m;
        });
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            ArchConfig c = ArchConfig.fromJson(it.next());
            if (skip.contains(c.hash())) {
                continue;
            }
            LatencyProtocol.Timing t = protocol.measure(model, c, c.hash().hashCode());
            List<Object> v = new ArrayList<>(List.of(hw.hardwareId(), hw.cpuModel(), hw.threads(), hw.osArch(),
                    hw.djlVersion(), hw.pytorchVersion(), ds.name, vocab, c.hash(), c.toJson()));
            for (double f : Features.hat10(c)) {
                v.add(f);
            }
            v.addAll(List.of(t.encoder().trimmedMean(), t.decoder().trimmedMean(), t.latencyMs(),
                    Math.hypot(t.encoder().std(), t.decoder().std()), t.encoder().median(), t.decoder().median(),
                    t.encoder().p90(), t.decoder().p90(), t.encoder().std(), t.decoder().std(), protocol.runs(),
                    protocol.srcLen(), protocol.beam(), protocol.steps(), false, Timestamp.from(Instant.now())));
            out.add(RowFactory.create(v.toArray()));
        }
        return out.iterator();
    }

}
