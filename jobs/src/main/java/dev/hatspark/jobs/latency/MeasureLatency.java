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
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.Schedule;
import dev.hatspark.latency.ScheduleOptions;
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
 * (HAT's protocol, {@link LatencyProtocol}, on the interleaved {@link Schedule}) and appends the rows to
 * {@code latency/measurements/}, partitioned by hardware id, and each chunk's noise to {@code latency/runs/}.
 * Work is committed in chunks, each timed in interleaved passes with the reference config: an
 * interrupted run keeps every finished chunk, and a rerun skips configs already measured on the
 * same hardware and normalizes by the same reference anchor.
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

    /** The result the CLI prints: configs, and the run's label noise pooled over its chunks (null with one pass). */
    public record Result(int sampled, int skipped, long measured, String table, Double retestError, Double referenceDrift) {
    }

    /** What one task timed: its rows and their noise. */
    record Slice(String hardwareId, String anchorKey, List<Measurement> rows, Schedule.Summary summary)
            implements java.io.Serializable {
    }

    @Override
    public Result run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        LatencyProtocol protocol = protocolOptions.protocol();
        ScheduleOptions schedule = protocolOptions.schedule().resolvedFor(threads > 0 ? threads : Hardware.taskCpus());
        if (samples < 1 || chunk < 1) {
            throw new BadInputException("--samples and --chunk must be at least 1");
        }
        DesignSpace ds = Spaces.givenOrSupernet(fs, layout, space, "demo");
        int vocab = vocabSize != null ? vocabSize
                : fs.exists(layout.corpusMeta()) ? CorpusMeta.read(fs, layout).tgtVocabSize() : 8000;
        List<ArchConfig> configs = Genetics.latencySample(ds, samples, seed);
        Map<String, Set<String>> done = measured(spark, fs, layout);
        Map<String, Double> anchors = LatencyRuns.anchors(spark, fs, layout);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, Set<String>>> doneB = jsc.broadcast(done);
        String yaml = ds.yaml();
        String runId = java.util.UUID.randomUUID().toString();
        List<String> todo = configs.stream().map(ArchConfig::toJson).toList();
        long measured = 0;
        int skipped = 0;
        List<Double> errors = new ArrayList<>(), drifts = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        LOG.info("measure-latency: {} configs, {} passes of {} timed runs{}, {} clock", todo.size(), schedule.passes(),
                protocol.runs(), schedule.paired() ? " each paired with a reference run" : "", schedule.clock().label);
        long t0 = System.nanoTime();
        for (int from = 0; from < todo.size(); from += chunk) {
            int chunkIndex = from / chunk;
            List<String> part = todo.subList(from, Math.min(todo.size(), from + chunk));
            int slices = Math.max(1, Math.min(part.size(), parallel > 0 ? parallel : jsc.defaultParallelism()));
            int torchThreads = threads;
            long sampleSeed = seed; // locals only: the job object is not serializable
            Map<String, Double> anchorsNow = new HashMap<>(anchors);
            // the schedule of a chunk's slice is a function of (seed, chunk, slice): a rerun times what is left the same way
            List<Slice> timed = jsc.parallelize(part, slices)
                    .mapPartitionsWithIndex((slice, it) -> timeSlice(it, yaml, vocab, protocol, schedule, torchThreads,
                            doneB.value(), anchorsNow, sliceSeed(sampleSeed, chunkIndex, slice), runId), false)
                    .collect();
            List<Row> rows = new ArrayList<>();
            List<Row> noise = new ArrayList<>();
            for (Slice sl : timed) {
                // a hardware's first chunk: its concurrent slices anchored on their own references; the first one's wins
                if (sl.summary().anchorMs() != null) {
                    anchors.putIfAbsent(sl.anchorKey(), sl.summary().anchorMs());
                }
                Double anchor = anchors.get(sl.anchorKey());
                sl.rows().forEach(m -> rows.add(Tables.measurementRow(anchor == null ? m : m.reanchored(anchor))));
                noise.add(LatencyRuns.row(runId, LatencyRuns.MEASURE, chunkIndex, sl.hardwareId(), ds.name, vocab, protocol,
                        schedule, ds.median().hash(), sl.summary(), anchor));
                errors.add(sl.summary().retestError());
                drifts.add(sl.summary().referenceDrift());
                sizes.add(sl.summary().configs());
                LOG.info("measure-latency chunk {}: {} configs on {}, retest error {} (raw {}, trimmed mean {}, p25 {}),"
                                + " reference drift {}, load {}", chunkIndex, sl.summary().configs(), sl.hardwareId(),
                        pct(sl.summary().retestError()), pct(sl.summary().retestErrorRaw()),
                        pct(sl.summary().retestByStatistic().get("trimmed-mean")),
                        pct(sl.summary().retestByStatistic().get("p25")), pct(sl.summary().referenceDrift()),
                        sl.summary().loadAvg());
            }
            skipped += part.size() - rows.size();
            if (!rows.isEmpty()) {
                // one file per chunk: the append then appears whole, also on S3 (Fs); its noise row after it
                Dataset<Row> df = spark.createDataFrame(rows, Tables.LATENCY_MEASUREMENTS).coalesce(1);
                fs.appendParquet(df, layout.latencyMeasurements(), "hardware_id");
                LatencyRuns.append(spark, fs, layout, noise);
            }
            measured += rows.size();
            int finished = Math.min(todo.size(), from + chunk);
            double perConfig = (System.nanoTime() - t0) / 1e9 / finished;
            LOG.info("measure-latency: {}/{} configs ({} measured, {} already there), ETA {}", finished, todo.size(),
                    measured, skipped, Progress.eta(perConfig * (todo.size() - finished)));
        }
        Double retest = Schedule.pooled(errors, sizes);
        Double drift = Schedule.pooled(drifts, sizes);
        LOG.info("measure-latency: label retest error {} (relative RMSE between passes), reference drift {} ({} in {})",
                pct(retest), pct(drift), layout.latencyRuns(), runId);
        return new Result(todo.size(), skipped, measured, layout.latencyMeasurements(), retest, drift);
    }

    static long sliceSeed(long seed, int chunk, int slice) {
        return new java.util.SplittableRandom(seed).split().nextLong() ^ (chunk * 0x9E3779B97F4A7C15L) ^ (slice * 0xC2B2AE3D27D4EB4FL);
    }

    static String pct(Double v) {
        return v == null ? "-" : String.format("%.2f %%", 100 * v);
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

    /** Runs in a task: this slice's configs not yet measured, on the interleaved schedule, one timing at a time. */
    private static java.util.Iterator<Slice> timeSlice(java.util.Iterator<String> it, String yaml, int vocab,
                                                     LatencyProtocol protocol, ScheduleOptions schedule, int threads,
                                                     Map<String, Set<String>> done, Map<String, Double> anchors,
                                                     long seed, String runId) {
        Torch.threads(threads > 0 ? threads : Hardware.taskCpus(), 1);
        Device device = Device.detect();
        Set<String> skip = done.getOrDefault(device.hardwareId(), Set.of());
        DesignSpace ds = DesignSpace.parse(yaml, "design space");
        Map<String, ArchConfig> left = new java.util.LinkedHashMap<>();
        it.forEachRemaining(json -> {
            ArchConfig c = ArchConfig.fromJson(json);
            if (!skip.contains(c.hash())) {
                left.put(c.hash(), c);
            }
        });
        if (left.isEmpty()) {
            return java.util.Collections.emptyIterator();
        }
        Measurer measurer = Measurer.of(ds, vocab, protocol, Measurer.WARMUP_SECONDS);
        String key = LatencyRuns.anchorKey(device.hardwareId(), ds.median().hash(), vocab, protocol, schedule.statistic().label);
        Schedule.Result r = measurer.measure(new ArrayList<>(left.values()), schedule, seed, anchors.get(key), t -> { });
        java.time.Instant now = java.time.Instant.now();
        Map<String, Schedule.Label> byKey = new HashMap<>();
        r.labels().forEach(l -> byKey.put(l.key(), l));
        List<Measurement> rows = left.values().stream()
                .map(c -> measurer.row(byKey.get(c.hash()), c, device, runId, now)).toList();
        return List.of(new Slice(device.hardwareId(), key, rows, r.summary())).iterator();
    }
}
