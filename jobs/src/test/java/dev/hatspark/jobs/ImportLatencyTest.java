package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.ImportRecord;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.ImportLatency;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.latency.FeatureSpec;
import dev.hatspark.latency.Features;
import dev.hatspark.measure.HatMeasure;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Edge targets: hat-measure's CSV (the real measuring code, run in-process) and HAT's published CSV
 * format through import-latency into fit-predictor and the sweep's space check; malformed files.
 */
class ImportLatencyTest {
    static final String SPREAD = """
            name: spread
            qkv_dim: 64
            dropout: 0.1
            encoder: {embed_dim: [32, 128], layer_num: [1, 2], ffn_embed_dim: [64, 512], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [32, 128], layer_num: [1, 2, 3, 4], ffn_embed_dim: [64, 512], self_attention_heads: [2, 4],
                      ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
            """;

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path spread;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        spread = dir.resolve("spread.yaml");
        Files.writeString(spread, SPREAD);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** import-latency as the CLI parses it. */
    static ImportLatency importer(String root, String hw, String... args) {
        ImportLatency i = new ImportLatency();
        List<String> a = new java.util.ArrayList<>(List.of("--root", root, "--hardware-id", hw));
        a.addAll(List.of(args));
        new CommandLine(i).parseArgs(a.toArray(String[]::new));
        return i;
    }

    static FitPredictor fitter(String root, String hw) {
        FitPredictor f = new FitPredictor();
        f.run.root = root;
        f.hardwareId = hw;
        f.hidden = new int[] {32, 32};
        f.testFraction = 0.3;
        f.gbtIter = 10;
        return f;
    }

    /**
     * A file in HAT's published format for {@code n} configs of a space, with a smooth made-up latency
     * (encoder and decoder work grow with depth and width, plus ±2 % deterministic noise).
     */
    static String hatFormat(DesignSpace s, int n, long seed) {
        StringBuilder b = new StringBuilder(String.join(",", Features.HAT10)
                + ",latency_mean_encoder,latency_mean_decoder,latency_std_encoder,latency_std_decoder\n");
        var noise = new java.util.SplittableRandom(seed);
        for (ArchConfig c : Genetics.sampleDistinct(s, n, seed)) {
            double[] f = Features.hat10(c);
            double enc = 1 + f[1] * f[0] / s.maxEncoderEmbed() * (1 + f[2] / s.maxEncoderFfn());
            double dec = 2 + f[5] * f[4] / s.maxDecoderEmbed() * (3 + f[6] / s.maxDecoderFfn() + 0.2 * f[9]);
            enc *= 1 + 0.02 * (2 * noise.nextDouble() - 1);
            dec *= 1 + 0.02 * (2 * noise.nextDouble() - 1);
            for (double x : f) {
                b.append(x).append(',');
            }
            b.append(String.format(Locale.ROOT, "%.6f,%.6f,%.4f,%.4f%n", enc, dec, 0.01 * enc, 0.01 * dec));
        }
        return b.toString();
    }

    @Test
    void hatMeasureCsvRoundTripsThroughImportIntoAPredictor() throws Exception {
        String root = dir.resolve("edge").toString();
        Path csv = dir.resolve("edge.csv");
        HatMeasure m = new HatMeasure();
        new CommandLine(m).parseArgs("--space", spread.toString(), "--samples", "40", "--seed", "3", "--out", csv.toString(),
                "--vocab-size", "200", "--src-len", "6", "--decoder-steps", "6", "--warmup", "1", "--runs", "3",
                "--threads", "1", "--warmup-seconds", "0");
        assertEquals(40, m.run().measured());
        List<dev.hatspark.latency.Measurement> written = dev.hatspark.latency.MeasurementCsv.parse(Files.readString(csv),
                csv.toString(), null).rows();

        ImportLatency.Result r = (ImportLatency.Result) importer(root, "edge-box", csv.toString(), "--space", spread.toString()).run(spark);
        assertEquals(40, r.added());
        assertFalse(r.hat10Only());
        Dataset<Row> t = spark.read().parquet(root + "/latency/measurements");
        assertEquals(40, t.where("hardware_id = 'edge-box' and config_json is not null and cpu_model is not null"
                + " and not hat10_only and space = 'spread' and runs = 3").count());
        // every value as hat-measure wrote it, under the id given on the command line
        dev.hatspark.latency.Measurement w = written.get(7);
        Row imported = t.where(org.apache.spark.sql.functions.col("config_hash").equalTo(w.configHash())).first();
        for (dev.hatspark.latency.Measurement.Column c : dev.hatspark.latency.Measurement.COLUMNS) {
            Object v = imported.getAs(c.name());
            Object expected = c.name().equals("hardware_id") ? "edge-box" : w.get(c.name());
            assertEquals(expected, v instanceof java.sql.Timestamp ts ? ts.toInstant() : v, c.name());
        }
        ImportLatency.Result again = (ImportLatency.Result) importer(root, "edge-box", csv.toString(), "--space", spread.toString()).run(spark);
        assertEquals(0, again.added());
        assertEquals(40, again.alreadyThere());
        assertEquals(40, spark.read().parquet(root + "/latency/measurements").count(), "a rerun adds nothing");

        // how well it learns is FitPredictorTest's subject; here: the imported rows fit with their whole configs
        FitPredictor fitter = fitter(root, "edge-box");
        fitter.maxIter = 20;
        fitter.gbtIter = 3;
        FitPredictor.Result fit = (FitPredictor.Result) fitter.run(spark);
        assertEquals("rich", fit.features(), "whole configs: the rich features");
        Dataset<Row> metrics = spark.read().parquet(FitPredictorTest.predictorDir(spark, root, "edge-box") + "/metrics");
        assertEquals(40, metrics.where("model = 'mlp'").agg(org.apache.spark.sql.functions.sum("n")).first().getLong(0));
        assertTrue(metrics.where("note is not null").isEmpty());
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), "edge-box");
        assertEquals(DesignSpace.parse(SPREAD, "x").yaml(), p.spec().spaceYaml(), "the imported space");
    }

    @Test
    void hatFormatImportsAsHat10OnlyAndTheSweepNamesTheDifferingChoices() throws Exception {
        String root = dir.resolve("hat").toString();
        Path csv = dir.resolve("hat-synth.csv");
        DesignSpace hat = DesignSpace.builtin("hat-wmt14");
        Files.writeString(csv, hatFormat(hat, 300, 5));
        ImportLatency.Result r = (ImportLatency.Result) importer(root, "hat-synth", csv.toString()).run(spark);
        assertEquals(300, r.added());
        assertTrue(r.hat10Only());
        assertEquals("hat-wmt14", r.space());
        Dataset<Row> t = spark.read().parquet(root + "/latency/measurements");
        assertEquals(300, t.where("hat10_only and config_json is null and src_len = 30 and beam = 5 and decoder_steps = 30"
                + " and abs(latency_ms - encoder_ms - decoder_ms) < 1e-9").count());

        FitPredictor.Result fit = (FitPredictor.Result) fitter(root, "hat-synth").run(spark);
        assertEquals("hat10", fit.features(), "rows with only HAT's 10 features fit on those");
        assertTrue(fit.test().get("mlp").rmseRel() < 0.05 && fit.test().get("mlp").kendallTau() > 0.8, fit.test().toString());
        Dataset<Row> metrics = spark.read().parquet(FitPredictorTest.predictorDir(spark, root, "hat-synth") + "/metrics");
        assertEquals(6, metrics.where("features = 'hat10' and note like '%only HAT_s 10 features%'").count());
        FeatureSpec spec = LatencyPredictor.load(spark, new Layout(root), "hat-synth").spec();
        assertEquals(hat.yaml(), spec.spaceYaml());
        // the predictor scores whole configs from their 10 features, as the sweep calls it
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), "hat-synth");
        assertTrue(p.predictMs(hat.largest()) > 2 * p.predictMs(hat.smallest()), "largest predicted slower");

        // a supernet of another space: the sweep stops and names each differing choice
        Files.createDirectories(Path.of(root, "supernet/checkpoints/step-00000001"));
        Files.writeString(Path.of(root, "supernet/checkpoints/step-00000001/state.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(new Checkpoints.State(1, 1, SPREAD,
                        1000, 1000, "x", "x", List.of())));
        Sweep s = new Sweep();
        s.run.root = root;
        s.hardwareId = "hat-synth";
        s.budgets = new double[] {100};
        var e = assertThrows(IllegalArgumentException.class, () -> s.run(spark));
        assertTrue(e.getMessage().contains("hardware id 'hat-synth'") && e.getMessage().contains("'hat-wmt14'")
                && e.getMessage().contains("encoder.embed_dim: imported {640, 512} vs supernet {32, 128}")
                && e.getMessage().contains("qkv_dim: imported 512 vs supernet 64"), e.getMessage());
        assertFalse(Files.exists(Path.of(root, "sweeps")), "stopped before anything was written");
    }

    @Test
    void malformedFilesAreRejectedWholeAndNothingImportedIsLost() throws Exception {
        String root = dir.resolve("bad").toString();
        DesignSpace hat = DesignSpace.builtin("hat-wmt14");
        String good = hatFormat(hat, 12, 9);
        List<String> lines = new java.util.ArrayList<>(good.lines().toList());
        String[] f = lines.get(3).split(",");
        f[11] = "-3";
        lines.set(3, String.join(",", f));
        lines.set(6, lines.get(6).replaceFirst("^[^,]+,", "abc,"));
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, String.join("\n", lines) + "\n");

        var e = assertThrows(IllegalArgumentException.class, () -> importer(root, "pi", bad.toString()).run(spark));
        assertTrue(e.getMessage().startsWith("2 bad rows in " + bad + ", first " + bad
                + ":4: column 'latency_mean_decoder' expected a positive number, got '-3'"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing imported (--skip-bad-rows"), e.getMessage());
        assertFalse(Files.exists(Path.of(root, "latency")), "a rejected file writes nothing");
        assertEquals(1, Hat.execute("import-latency", "--root", root, "--hardware-id", "pi", bad.toString()), "exit code 1");

        ImportLatency skip = importer(root, "pi", bad.toString());
        skip.skipBadRows = true;
        ImportLatency.Result r = (ImportLatency.Result) skip.run(spark);
        assertEquals(10, r.added());
        assertEquals(2, r.badSkipped());

        // a file without a latency column, another space under the same id, a bad id: errors, table unchanged
        Path noDecoder = dir.resolve("nodec.csv");
        Files.writeString(noDecoder, good.replace(",latency_mean_decoder", ",latency_mean_decodr"));
        var e2 = assertThrows(IllegalArgumentException.class, () -> importer(root, "pi", noDecoder.toString()).run(spark));
        assertEquals(noDecoder + ":1: missing column 'latency_mean_decoder' (HAT's latency CSV)", e2.getMessage());
        Path demo = dir.resolve("demo.csv");
        Files.writeString(demo, hatFormat(DesignSpace.builtin("demo"), 12, 1));
        ImportLatency other = importer(root, "pi", demo.toString());
        other.space = "demo";
        var e3 = assertThrows(IllegalArgumentException.class, () -> other.run(spark));
        assertTrue(e3.getMessage().contains("already holds measurements of design space 'hat-wmt14'")
                && e3.getMessage().contains("encoder.embed_dim: already imported {640, 512} vs this import {128, 192, 256}"),
                e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> importer(root, "../x", demo.toString()).run(spark));
        assertTrue(e4.getMessage().startsWith("--hardware-id must be"), e4.getMessage());
        assertEquals(10, spark.read().parquet(root + "/latency/measurements").count(), "nothing imported is lost");
        ImportRecord meta = ImportRecord.read(new Fs(spark.sparkContext().hadoopConfiguration()), new Layout(root), "pi");
        assertEquals(1, meta.imports().size());
        assertEquals(2, meta.imports().get(0).badSkipped());
    }
}
