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
        Row r = t.first();
        assertTrue(r.<String>getAs("hardware_id").endsWith("-1t"), "one thread per task in local mode");
        assertFalse(r.<String>getAs("cpu_model").isBlank());
        assertTrue(t.where("encoder_ms <= 0 or decoder_ms <= 0 or abs(latency_ms - encoder_ms - decoder_ms) > 1e-9").isEmpty());
        // the deepest decoder takes longer than the shallowest (decoder time grows with layers)
        double shallow = t.where("decoder_layer_num = 1").agg(org.apache.spark.sql.functions.avg("decoder_ms")).first().getDouble(0);
        double deep = t.where("decoder_layer_num = 2").agg(org.apache.spark.sql.functions.avg("decoder_ms")).first().getDouble(0);
        assertTrue(deep > shallow, "deep " + deep + " vs shallow " + shallow);

        // rerun with the same seed: nothing new; another seed appends only new configs
        MeasureLatency.Result again = (MeasureLatency.Result) job(root, 10, 1).run(spark);
        assertEquals(0, again.measured());
        assertEquals(10, again.skipped());
        job(root, 6, 2).run(spark);
        Dataset<Row> after = spark.read().parquet(root + "/latency/measurements");
        assertEquals(after.count(), after.select("hardware_id", "config_hash").distinct().count(), "no duplicates");
        assertTrue(after.count() > 10 && after.count() <= 16);
    }

    @Test
    void badProtocolIsRejected() {
        MeasureLatency m = job(dir.resolve("bad").toString(), 2, 1);
        m.protocolOptions.trim = 0.6;
        var e = assertThrows(IllegalArgumentException.class, () -> m.run(spark));
        assertTrue(e.getMessage().contains("trim"), e.getMessage());
    }
}
