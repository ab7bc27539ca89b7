package dev.hatspark.jobs.bench;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.latency.PredictLatency;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * bench-scoring (a benchmark, not a test): configs scored per second by a hardware id's predictor
 * in-process ({@link LatencyPredictor#predictMs}, what the sweep calls below its threshold), as the
 * sweep's Spark path (configs from the driver, scored on the executors, collected back) and as the
 * predict-latency job (sampled on the executors, written as Parquet), for growing sample sizes.
 * A size whose in-process or driver-side run is estimated beyond {@code --max-seconds} is left out.
 */
@Command(name = "bench-scoring", mixinStandardHelpOptions = true,
        description = "Benchmark: latency-predictor scoring throughput in-process vs as a Spark job.")
public final class ScoringBenchmark implements Job<ScoringBenchmark.Result> {
    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--hardware-id", required = true)
    public String hardwareId;

    @Option(names = "--sizes", split = ",", description = "Sample sizes. Default: 1000,10000,100000,1000000")
    public long[] sizes = {1_000, 10_000, 100_000, 1_000_000};

    @Option(names = "--space", description = "Design space to sample; default: the predictor's, else hat-wmt14")
    public String space;

    @Option(names = "--max-seconds", description = "Leave out a path whose estimated time exceeds this. Default: ${DEFAULT-VALUE}")
    public double maxSeconds = 120;

    @Override
    public String name() {
        return "bench-scoring";
    }

    /** Configs per second of each path at one size (NaN: left out). */
    public record Row(long n, double inProcess, double sweepSpark, double predictLatencyJob) {
    }

    public record Result(String hardwareId, List<Row> rows) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "configs/s with %s's predictor:%n"
                    + "  %10s %14s %22s %22s%n", hardwareId, "configs", "in-process", "sweep's Spark path", "predict-latency job"));
            for (Row r : rows) {
                b.append(String.format(Locale.ROOT, "  %10d %14s %22s %22s%n", r.n(), cell(r.inProcess()), cell(r.sweepSpark()),
                        cell(r.predictLatencyJob())));
            }
            return b.toString();
        }

        private static String cell(double v) {
            return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%,.0f", v);
        }
    }

    @Override
    public Result run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        LatencyPredictor p = LatencyPredictor.load(spark, run.layout(), hardwareId);
        DesignSpace s = space != null ? Spaces.given(fs, space) : p.spec().space() != null ? p.spec().space()
                : DesignSpace.builtin("hat-wmt14");
        long seed = 1;
        // warm-up: JIT for the in-process path, Spark's first-job costs for the others
        time(() -> inProcess(p, s, seed, 2_000));
        time(() -> sweepPath(spark, p, sample(s, seed, 2_000)));
        String out = Fs.temporary(run.layout().root() + "/bench-scoring");
        time(() -> predictLatency(spark, fs, p, s, seed, 2_000, out));
        List<Row> rows = new ArrayList<>();
        double[] last = {Double.NaN, Double.NaN, Double.NaN}; // the last measured rate of each path
        for (long n : sizes) {
            double in = measure(n, last, 0, () -> inProcess(p, s, seed, n));
            double sw = measure(n, last, 1, () -> sweepPath(spark, p, sample(s, seed, n)));
            double job = measure(n, last, 2, () -> predictLatency(spark, fs, p, s, seed, n, out));
            Row r = new Row(n, in, sw, job);
            rows.add(r);
            System.out.println(new Result(hardwareId, List.of(r)).toString().lines().skip(2).findFirst().orElse(""));
        }
        return new Result(hardwareId, rows);
    }

    /** Configs/s of one path at size n, or NaN when its last rate says it would take longer than --max-seconds. */
    private double measure(long n, double[] last, int path, Runnable r) {
        if (!Double.isNaN(last[path]) && n / last[path] > maxSeconds) {
            return Double.NaN;
        }
        last[path] = n / time(r);
        return last[path];
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static List<ArchConfig> sample(DesignSpace s, long seed, long n) {
        List<ArchConfig> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            out.add(PredictLatency.sampled(s, seed, i));
        }
        return out;
    }

    private static void inProcess(LatencyPredictor p, DesignSpace s, long seed, long n) {
        double sum = 0;
        for (long i = 0; i < n; i++) {
            sum += p.predictMs(PredictLatency.sampled(s, seed, i));
        }
        if (!(sum > 0)) {
            throw new IllegalStateException("predictions sum to " + sum);
        }
    }

    /** As the sweep's Spark path does it: configs from the driver, predictions collected back by hash. */
    private static void sweepPath(SparkSession spark, LatencyPredictor p, List<ArchConfig> configs) {
        List<String> json = configs.stream().map(ArchConfig::toJson).toList();
        int rows = p.score(spark.createDataset(json, Encoders.STRING()).toDF("config_json"))
                .select("config_hash", "predicted_latency_ms").collectAsList().size();
        if (rows != configs.size()) {
            throw new IllegalStateException(rows + " predictions for " + configs.size() + " configs");
        }
    }

    private static void predictLatency(SparkSession spark, Fs fs, LatencyPredictor p, DesignSpace s, long seed, long n, String out) {
        fs.writeParquet(p.score(PredictLatency.sample(spark, s, n, seed, spark.sparkContext().defaultParallelism())), out);
        fs.delete(out);
    }
}
