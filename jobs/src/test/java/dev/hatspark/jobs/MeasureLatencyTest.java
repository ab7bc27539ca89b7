package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.store.Spark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** measure-latency on a real local Spark session with real DJL inference. */
class MeasureLatencyTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static String space;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        space = dir.resolve("tiny.yaml").toString();
        Files.writeString(dir.resolve("tiny.yaml"), PipelineTest.TINY_SPACE);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static MeasureLatency job(String root, int samples, long seed) {
        MeasureLatency m = new MeasureLatency();
        m.run.root = root;
        m.space = space;
        m.samples = samples;
        m.seed = seed;
        m.vocabSize = 200;
        m.protocolOptions.srcLen = 8;
        m.protocolOptions.steps = 8;
        m.protocolOptions.warmup = 1;
        m.protocolOptions.runs = 5;
        m.chunk = 4;
        return m;
    }

    @Test
    void measuresAppendsWithoutDuplicatesAndRecordsTheHardware() {
        String root = dir.resolve("run").toString();
        MeasureLatency.Result first = (MeasureLatency.Result) job(root, 10, 1).run(spark);
        assertEquals(10, first.measured());
        Dataset<Row> t = spark.read().parquet(root + "/latency/measurements");
        assertEquals(10, t.count());
        // the space's corners are always among the configs, so the predictor never extrapolates there
        dev.hatspark.space.DesignSpace ds = dev.hatspark.space.DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
        assertEquals(2, t.where(org.apache.spark.sql.functions.col("config_hash").isin(ds.largest().hash(), ds.smallest().hash())).count());
        Row r = t.first();
        assertTrue(r.<String>getAs("hardware_id").endsWith("-1t"), "one thread per task in local mode");
        assertFalse(r.<String>getAs("cpu_model").isBlank());
        assertTrue(t.where("encoder_ms <= 0 or decoder_ms <= 0 or abs(latency_ms - encoder_ms - decoder_ms) > 1e-9").isEmpty());
        // the deepest decoder takes longer than the shallowest (decoder time grows with layers)
        double shallow = t.where("decoder_layer_num = 1").agg(org.apache.spark.sql.functions.avg("decoder_ms")).first().getDouble(0);
        double deep = t.where("decoder_layer_num = 2").agg(org.apache.spark.sql.functions.avg("decoder_ms")).first().getDouble(0);
        assertTrue(deep > shallow, "deep " + deep + " vs shallow " + shallow);
        // the interleaved protocol's columns: the default 2 passes, each run paired with a run of the space's median config
        String ref = dev.hatspark.space.DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny").median().hash();
        assertEquals(10, t.where("passes = 2 and statistic = 'paired-median' and reference_hash = '" + ref + "'"
                + " and raw_latency_ms > 0 and trimmed_mean_ms > 0 and reference_ms > 0").count());
        assertEquals(1, t.select("reference_anchor_ms").distinct().count(), "one anchor for the whole table");
        // paired, the label is the anchor times the median of per-run ratios, raw the p25 of the config's runs: the two
        // agree only roughly (this test's runs take a millisecond), but a label off the anchor's scale is far outside
        assertTrue(t.where("latency_ms < 0.5 * raw_latency_ms * reference_anchor_ms / reference_ms"
                        + " or latency_ms > 2 * raw_latency_ms * reference_anchor_ms / reference_ms").isEmpty(),
                "normalized ≈ raw × anchor / reference");
        if (Files.exists(Path.of("/proc/loadavg"))) {
            assertTrue(t.where("load_avg is null").isEmpty());
        }
        Dataset<Row> runs = spark.read().parquet(root + "/latency/runs");
        assertEquals(10, runs.agg(org.apache.spark.sql.functions.sum("configs")).first().getLong(0), "every config's noise");
        assertTrue(runs.where("retest_error is null or retest_error < 0 or reference_ms is null").isEmpty());
        assertEquals(runs.count(), runs.where("paired").count(), "every chunk paired by default");
        assertEquals(runs.count(), runs.where("clock = 'cpu'").count(), "one PyTorch thread per task: timed on its CPU time");
        assertNotNull(first.retestError());

        // rerun with the same seed: nothing new; another seed appends only new configs
        MeasureLatency.Result again = (MeasureLatency.Result) job(root, 10, 1).run(spark);
        assertEquals(0, again.measured());
        assertEquals(10, again.skipped());
        job(root, 6, 2).run(spark);
        Dataset<Row> after = spark.read().parquet(root + "/latency/measurements");
        assertEquals(after.count(), after.select("hardware_id", "config_hash").distinct().count(), "no duplicates");
        assertTrue(after.count() > 10 && after.count() <= 16);
    }

    /**
     * An interrupted run (chunks are committed whole, so an interruption leaves a prefix of chunks)
     * resumed with the same options ends with the same configs, schedule settings and reference
     * anchor as an uninterrupted run. The timings differ, as any two timings do.
     */
    @Test
    void aResumedRunEqualsAnUninterruptedOne() {
        String whole = dir.resolve("whole").toString();
        String resumed = dir.resolve("resumed").toString();
        MeasureLatency a = job(whole, 8, 5);
        a.parallel = 1;
        a.run(spark);
        MeasureLatency cut = job(resumed, 4, 5); // the first chunk, as if killed during the second
        cut.parallel = 1;
        cut.run(spark);
        MeasureLatency rest = job(resumed, 8, 5);
        rest.parallel = 1;
        MeasureLatency.Result r = (MeasureLatency.Result) rest.run(spark);
        assertEquals(4, r.skipped());
        assertEquals(4, r.measured());
        String cols = "config_hash, config_json, hardware_id, passes, statistic, reference_hash, runs, concurrent";
        assertEquals(rows(whole, cols), rows(resumed, cols));
        for (String root : List.of(whole, resumed)) {
            Dataset<Row> t = spark.read().parquet(root + "/latency/measurements");
            assertEquals(1, t.select("reference_anchor_ms").distinct().count(), root + ": the first chunk's anchor throughout");
            Dataset<Row> runs = spark.read().parquet(root + "/latency/runs");
            double anchor = t.first().<Double>getAs("reference_anchor_ms");
            assertEquals(anchor, runs.where("chunk = 0").first().<Double>getAs("reference_ms"), 1e-12,
                    "the anchor is the first chunk's reference median");
            assertEquals(List.of("0:4", "1:4"), runs.orderBy("chunk").collectAsList().stream()
                    .map(x -> x.getAs("chunk") + ":" + x.getAs("configs")).toList());
        }
        assertEquals(2, spark.read().parquet(resumed + "/latency/runs").select("run_id").distinct().count());
    }

    static List<String> rows(String root, String cols) {
        return spark.read().parquet(root + "/latency/measurements").selectExpr(cols.split(", ")).collectAsList().stream()
                .map(Row::toString).sorted().toList();
    }

    @Test
    void badScheduleOptionsAreOneLine() {
        for (String[] bad : new String[][] {{"passes", "0", "--passes must be at least 1"},
                {"reference", "-1", "--reference-every must be 0"}, {"statistic", "mean", "--statistic must be one of"},
                {"clock", "tsc", "--clock must be auto, wall or cpu"}, {"threads", "2", "--clock cpu reads the timing thread's"}}) {
            MeasureLatency m = job(dir.resolve("bad-" + bad[0]).toString(), 2, 1);
            switch (bad[0]) {
                case "passes" -> m.protocolOptions.passes = Integer.parseInt(bad[1]);
                case "reference" -> m.protocolOptions.referenceEvery = Integer.parseInt(bad[1]);
                case "clock" -> m.protocolOptions.clock = bad[1];
                case "threads" -> { // CPU time misses the work of PyTorch's other threads
                    m.protocolOptions.clock = "cpu";
                    m.threads = Integer.parseInt(bad[1]);
                }
                default -> m.protocolOptions.statistic = bad[1];
            }
            var e = assertThrows(dev.hatspark.util.BadInputException.class, () -> m.run(spark));
            assertTrue(e.getMessage().startsWith(bad[2]) && !e.getMessage().contains("\n"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("bad-" + bad[0])), "nothing written");
        }
    }

    @Test
    void badProtocolIsRejected() {
        MeasureLatency m = job(dir.resolve("bad").toString(), 2, 1);
        m.protocolOptions.trim = 0.6;
        var e = assertThrows(IllegalArgumentException.class, () -> m.run(spark));
        assertTrue(e.getMessage().contains("trim"), e.getMessage());
    }
}
