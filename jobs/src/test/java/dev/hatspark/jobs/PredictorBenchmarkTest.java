package dev.hatspark.jobs;

import dev.hatspark.jobs.bench.PredictorBenchmark;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.latency.Features;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** bench-predictor on a small synthetic HAT-format CSV (never on ../shared), and the no-data path. */
class PredictorBenchmarkTest {
    @TempDir
    static Path dir;
    static SparkSession spark;

    @BeforeAll
    static void start() {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Rows like HAT's: the 10 features, then encoder/decoder mean and std latencies; latency ~ layer totals + 3 % noise. */
    static void writeCsv(Path file, int rows, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder(String.join(",", Features.HAT10))
                .append(",latency_mean_encoder,latency_mean_decoder,latency_std_encoder,latency_std_decoder\n");
        int[] embed = {512, 640};
        int[] ffn = {1024, 2048, 3072};
        int[] heads = {4, 8};
        for (int i = 0; i < rows; i++) {
            int ee = embed[rnd.nextInt(2)], de = embed[rnd.nextInt(2)], dl = 1 + rnd.nextInt(6);
            double ef = ffn[rnd.nextInt(3)], eh = heads[rnd.nextInt(2)], df = ffn[rnd.nextInt(3)];
            double dh = heads[rnd.nextInt(2)], dx = heads[rnd.nextInt(2)], da = 1 + rnd.nextInt(3);
            double enc = 6 * ee * ef * 1e-6 * (1 + 0.03 * rnd.nextDouble(-1, 1));
            double dec = (20 + dl * (de * df * 4e-5 + de * de * 5e-5 + 2 * dx + 3 * da)) * (1 + 0.03 * rnd.nextDouble(-1, 1));
            b.append(String.format(Locale.ROOT, "%d,6,%s,%s,%d,%d,%s,%s,%s,%s,%s,%s,0.1,0.5%n",
                    ee, ef, eh, de, dl, df, dh, dx, da, enc, dec));
        }
        Files.writeString(file, b.toString());
    }

    static PredictorBenchmark job(Path data) {
        PredictorBenchmark b = new PredictorBenchmark();
        b.dataDir = data.toString();
        b.seeds = 2;
        b.hidden = new int[] {8};
        b.maxIter = 40;
        b.gbtIter = 0;  // the GBT baseline is the same pipeline with another regressor: left out to keep this quick
        return b;
    }

    @Test
    void benchmarksEveryCsvAndReturnsFigures() throws Exception {
        Path data = Files.createDirectories(dir.resolve("hat-latency"));
        writeCsv(data.resolve("synthetic_xeon_all.csv"), 300, 1);
        writeCsv(data.resolve("synthetic_other.csv"), 200, 2);
        Files.writeString(data.resolve("README.md"), "not a csv");
        // HAT's trained predictor of the xeon file (the synthetic HAT-format fixture, imported with Xeon's norm)
        Files.copy(Path.of("..", "common", "src", "test", "resources", "hat-predictor", "predictor-legacy.pt"),
                Files.createDirectories(data.resolve("predictors")).resolve("synthetic_xeon.pt"));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        PredictorBenchmark.Result r;
        try {
            r = (PredictorBenchmark.Result) job(data).run(spark);
        } finally {
            System.setOut(old);
        }
        assertFalse(r.isSkipped());
        assertEquals(2, r.files().size(), "both CSVs, not the README");
        PredictorBenchmark.FileResult other = r.files().get(0);
        PredictorBenchmark.FileResult xeon = r.files().get(1);
        assertEquals("synthetic_other.csv", other.file());
        assertEquals(200, other.rows());
        assertEquals(20, other.testRows());
        assertNull(other.hatRmsePct(), "no published figures for an unknown file");
        assertEquals("5.8–6.6", xeon.hatRmsePct());
        assertEquals(30, xeon.testRows());
        assertEquals(java.util.List.of("mlp", "linear", "linear+derived"), java.util.List.copyOf(other.models().keySet()));
        assertEquals(java.util.List.of("mlp", "linear", "linear+derived", "hat"), java.util.List.copyOf(xeon.models().keySet()));
        for (PredictorBenchmark.FileResult f : r.files()) {
            for (PredictorBenchmark.ModelFigures m : f.models().values()) {
                assertTrue(m.rmsePct().min() <= m.rmsePct().mean() && m.rmsePct().mean() <= m.rmsePct().max(), m.toString());
                assertTrue(m.rmseMs().mean() > 0 && Double.isFinite(m.kendallTau().mean()), m.toString());
            }
            // the synthetic latency is nearly a function of the layer totals: the MLP must get close to it
            assertTrue(f.mlp().rmsePct().mean() < 10, f.file() + ": " + f.mlp());
            assertTrue(f.mlp().kendallTau().mean() > 0.7, f.file() + ": " + f.mlp());
        }
        String table = out.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("synthetic_xeon_all.csv: 300 rows") && table.contains("HAT (published)")
                && table.contains("linear+derived") && table.contains("hat = HAT's trained predictor"), table);
        assertTrue(r.toString().contains("synthetic_other.csv: mlp "), r.toString());
    }

    @Test
    void missingFolderSkipsWithOneLine() {
        Path missing = dir.resolve("no-such-folder");
        PredictorBenchmark.Result r = (PredictorBenchmark.Result) job(missing).run(spark);
        assertTrue(r.isSkipped());
        assertTrue(r.files().isEmpty());
        assertTrue(r.toString().startsWith("skipped: no HAT latency data at " + missing), r.toString());

        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Hat.execute("bench-predictor", "--data-dir", missing.toString());
        } finally {
            System.setOut(old);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, printed);
        assertEquals(1, printed.strip().lines().count(), printed);
        assertTrue(printed.contains("bench-predictor done in") && printed.contains("skipped: no HAT latency data at"), printed);
        assertFalse(spark.sparkContext().isStopped(), "the CLI leaves a session it did not create running");
    }

    @Test
    void csvWithoutHatColumnsIsBadInput() throws Exception {
        Path data = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(data.resolve("x.csv"), "encoder_embed_dim,latency_mean_encoder\n512,3.0\n");
        var e = assertThrows(IllegalArgumentException.class, () -> job(data).run(spark));
        assertTrue(e.getMessage().contains("lacks HAT's columns") && e.getMessage().contains("decoder_layer_num"), e.getMessage());
    }
}
