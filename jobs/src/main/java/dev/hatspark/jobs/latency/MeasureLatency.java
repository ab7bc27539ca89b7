package dev.hatspark.jobs.latency;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.latency.Device;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.latency.ProtocolOptions;
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
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
public final class MeasureLatency implements Job<MeasureLatency.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(MeasureLatency.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--space", description = "Design space (built-in name or YAML path); default: the trained supernet's, else demo")
    public String space;

    @Option(names = "--samples", description = "Configs to sample. Default: ${DEFAULT-VALUE}")
    public int samples = 2000;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    public long seed = 1;

    @Option(names = "--vocab-size", description = "Output vocabulary of the timed model; default: the corpus', else 8000")
    public Integer vocabSize;

    @Mixin
    public ProtocolOptions protocolOptions = new ProtocolOptions();

    @Option(names = "--chunk", description = "Configs per committed chunk. Default: ${DEFAULT-VALUE}")
    public int chunk = 100;

    @Option(names = "--threads", description = "PyTorch threads of one timing (0 = spark.task.cpus). Default: ${DEFAULT-VALUE}")
    public int threads = 0;

    @Option(names = "--parallel", description = "Timing tasks at once (0 = one per task slot). On SMT machines, where two"
            + " vCPUs share a physical core, concurrent timings disturb each other: use 1, or spark.task.cpus=2 with --threads 1."
            + " Default: ${DEFAULT-VALUE}")
    public int parallel = 0;

    @Override
    public String name() {
        return "measure-latency";
    }

    /** The result the CLI prints. */
    public record Result(int sampled, int skipped, long measured, String table) {
    }

    @Override
    public Result run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        DesignSpace ds = Spaces.givenOrSupernet(fs, layout, space, "demo");
        int vocab = vocabSize != null ? vocabSize
                : fs.exists(layout.corpusMeta()) ? CorpusMeta.read(fs, layout).tgtVocabSize() : 8000;
        LatencyProtocol protocol = protocolOptions.protocol();
        if (samples < 1 || chunk < 1) {
            throw new BadInputException("--samples and --chunk must be at least 1");
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
                Dataset<Row> df = spark.createDataFrame(rows, Tables.LATENCY_MEASUREMENTS).coalesce(1);
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

    /** Runs in a task: one timing at a time on this task's cores. */
    private static java.util.Iterator<Row> timeAll(java.util.Iterator<String> it, String yaml, int vocab,
                                                   LatencyProtocol protocol, int threads,
                                                   Map<String, Set<String>> done) {
        Torch.threads(threads > 0 ? threads : Hardware.taskCpus(), 1);
        Device device = Device.detect();
        Set<String> skip = done.getOrDefault(device.hardwareId(), Set.of());
        Measurer measurer = Measurer.of(DesignSpace.parse(yaml, "design space"), vocab, protocol, Measurer.WARMUP_SECONDS);
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            ArchConfig c = ArchConfig.fromJson(it.next());
            if (!skip.contains(c.hash())) {
                out.add(Tables.measurementRow(measurer.measure(c, device)));
            }
        }
        return out.iterator();
    }
}
