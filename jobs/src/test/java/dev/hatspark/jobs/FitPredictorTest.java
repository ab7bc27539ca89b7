package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.latency.Accuracy;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** fit-predictor on a real (small) measurement run: MLlib pipeline, save/load, scoring, bad input. */
class FitPredictorTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static String root;
    static String hw;

    @BeforeAll
    static void measure() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        root = dir.resolve("run").toString();
        Path space = dir.resolve("tiny.yaml");
        // layer counts and widths far apart, so latency differences stand well above timing noise
        Files.writeString(space, """
                name: spread
                qkv_dim: 64
                dropout: 0.1
                encoder: {embed_dim: [32, 128], layer_num: [1, 2], ffn_embed_dim: [64, 512], self_attention_heads: [2, 4]}
                decoder: {embed_dim: [32, 128], layer_num: [1, 2, 3, 4], ffn_embed_dim: [64, 512], self_attention_heads: [2, 4],
                          ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
                """);
        MeasureLatency m = MeasureLatencyTest.job(root, 150, 3);
        m.parallel = 1; // one timing at a time: two at once on 2 vCPUs blur the differences the MLP must learn
        m.space = space.toString();
        m.chunk = 150;
        m.protocolOptions.runs = 8;
        m.protocolOptions.warmup = 2;
        m.protocolOptions.steps = 16;
        m.vocabSize = 1000;
        m.run(spark);
        hw = spark.read().parquet(root + "/latency/measurements").select("hardware_id").first().getString(0);
        // the rich features need the space: make it the run's supernet space
        Files.createDirectories(Path.of(root, "supernet/checkpoints/step-00000001"));
        Files.writeString(Path.of(root, "supernet/checkpoints/step-00000001/state.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(new Checkpoints.State(1, 1,
                        Files.readString(space), 1000, 1000, "x", "x", List.of())));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static FitPredictor job() {
        FitPredictor f = new FitPredictor();
        f.run.root = root;
        f.hidden = new int[] {32, 32};
        f.maxIter = 100;
        f.testFraction = 0.3;
        f.gbtIter = 10;
        return f;
    }

    @Test
    void mlpBeatsAConstantAndRoundTripsThroughSaveAndLoad() {
        FitPredictor.Result r = (FitPredictor.Result) job().run(spark);
        assertEquals(hw, r.hardwareId());
        assertEquals("rich", r.features());
        Accuracy mlp = r.test().get("mlp");
        // a constant predictor's RMSE is about the labels' standard deviation; real timings are noisy, so the
        // margin is modest, but a model that learned nothing cannot pass
        Dataset<Row> metrics = spark.read().parquet(predictorDir(spark, root, hw) + "/metrics");
        assertEquals(6, metrics.count(), "mlp, linear, gbt x train, test");
        // the labels' retest error (latency/runs) beside every model's error, and the flag consistent with it
        double noise = spark.read().parquet(root + "/latency/runs").first().<Double>getAs("retest_error");
        // pooled over chunks (Schedule.pooled: sqrt of the config-weighted mean square), so one chunk's error comes back
        // to within rounding, not always bit for bit
        assertEquals(6, metrics.where("abs(label_noise_rel - " + noise + ") <= 1e-12 * " + noise
                + " and above_noise = (rmse_rel > 2 * label_noise_rel)").count());
        List<Row> measured = spark.read().parquet(root + "/latency/measurements").select("config_json", "latency_ms").collectAsList();
        double mean = measured.stream().mapToDouble(x -> x.getDouble(1)).average().orElseThrow();
        double sd = Math.sqrt(measured.stream().mapToDouble(x -> Math.pow(x.getDouble(1) - mean, 2)).average().orElseThrow());
        assertTrue(mlp.rmseMs() < 0.9 * sd, "MLP test RMSE " + mlp.rmseMs() + " vs constant " + sd);
        assertTrue(mlp.kendallTau() > 0.3, "ranks configs: " + mlp);

        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), hw);
        Dataset<Row> scored = p.transform(spark.read().parquet(root + "/latency/measurements").select("config_json"));
        for (Row row : scored.limit(5).collectAsList()) {
            double fast = p.predictMs(ArchConfig.fromJson(row.getString(0)));
            assertEquals(row.<Double>getAs("predicted_latency_ms"), fast, 1e-9, "in-process path equals Spark transform");
        }
    }

    @Test
    void unknownHardwareAndEmptyMeasurementsGiveClearErrors() throws Exception {
        FitPredictor f = job();
        f.hardwareId = "raspberry-pi-4t";
        var e = assertThrows(IllegalArgumentException.class, () -> f.run(spark));
        assertTrue(e.getMessage().contains("no measurements for hardware id 'raspberry-pi-4t'") && e.getMessage().contains(hw),
                e.getMessage());
        FitPredictor none = job();
        none.run.root = dir.resolve("empty").toString();
        var e2 = assertThrows(IllegalArgumentException.class, () -> none.run(spark));
        assertTrue(e2.getMessage().contains("latency/measurements does not exist"), e2.getMessage());
        // a table with too few rows for that hardware
        String few = dir.resolve("few").toString();
        Dataset<Row> some = spark.read().parquet(root + "/latency/measurements").limit(3);
        some.write().partitionBy("hardware_id").parquet(few + "/latency/measurements");
        FitPredictor small = job();
        small.run.root = few;
        var e3 = assertThrows(IllegalArgumentException.class, () -> small.run(spark));
        assertTrue(e3.getMessage().contains("has 3 measurements"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> LatencyPredictor.load(spark, new Layout(few), "nope"));
        assertTrue(e4.getMessage().contains("no latency predictor for hardware id 'nope'"), e4.getMessage());
    }

    /** Where --hidden and --reg are not given, k-fold cross-validation on the training split picks them, reproducibly. */
    @Test
    void crossValidationChoosesTheNetAndRecordsTheChoice() throws Exception {
        FitPredictor f = job();
        f.hidden = null;
        f.maxIter = 40;
        f.run(spark);
        com.fasterxml.jackson.databind.JsonNode h = hyperparameters();
        assertEquals(3, h.get("cv_folds").asInt());
        assertEquals(9, h.get("candidates").asInt(), "3 widths x 3 L2 strengths");
        assertTrue(List.of("[8]", "[32]", "[64]").contains(h.get("hidden").toString()), h.toString());
        assertTrue(List.of(1e-3, 1e-2, 1e-1).contains(h.get("reg").asDouble()), h.toString());
        assertTrue(h.get("cv_rmse_rel").asDouble() > 0, h.toString());
        // the saved network has the chosen shape
        var net = (dev.hatspark.jobs.ml.MlpRegressionModel) LatencyPredictor.load(spark, new Layout(root), hw).pipeline().stages()[1];
        assertEquals(h.get("hidden").get(0).asInt(), net.layers()[1]);
        List<Row> first = spark.read().parquet(predictorDir(spark, root, hw) + "/metrics").orderBy("model", "split").collectAsList();
        f.run(spark);
        assertEquals(first, spark.read().parquet(predictorDir(spark, root, hw) + "/metrics").orderBy("model", "split").collectAsList(),
                "the same rows and seed choose and fit the same net");

        // both given: no cross-validation
        FitPredictor given = job();
        given.reg = 0.05;
        given.run(spark);
        assertEquals(0, hyperparameters().get("cv_folds").asInt());
        assertEquals("[32,32]", hyperparameters().get("hidden").toString());
        FitPredictor bad = job();
        bad.cvFolds = 1;
        var e = assertThrows(IllegalArgumentException.class, () -> bad.run(spark));
        assertTrue(e.getMessage().startsWith("--cv-folds must be 0 (off) or at least 2"), e.getMessage());
    }

    private static com.fasterxml.jackson.databind.JsonNode hyperparameters() throws Exception {
        Row mlp = spark.read().parquet(predictorDir(spark, root, hw) + "/metrics").where("model = 'mlp' and split = 'test'").first();
        Row linear = spark.read().parquet(predictorDir(spark, root, hw) + "/metrics").where("model = 'linear'").first();
        assertNull(linear.getAs("hyperparameters"), "only the MLP's are chosen");
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(mlp.<String>getAs("hyperparameters"));
    }

    /** A root measured before the interleaved protocol (no added columns, no latency/runs) still fits; its label noise is unknown. */
    @Test
    void anOldMeasurementsTableStillFits() throws Exception {
        String old = dir.resolve("old").toString();
        Dataset<Row> t = spark.read().parquet(root + "/latency/measurements");
        for (dev.hatspark.latency.Measurement.Column c : dev.hatspark.latency.Measurement.ADDED) {
            t = t.drop(c.name());
        }
        t.write().partitionBy("hardware_id").parquet(old + "/latency/measurements");
        PipelineTest.copy(Path.of(root, "supernet"), Path.of(old, "supernet"));
        FitPredictor f = job();
        f.run.root = old;
        assertEquals(hw, ((FitPredictor.Result) f.run(spark)).hardwareId());
        assertEquals(6, spark.read().parquet(predictorDir(spark, old, hw) + "/metrics")
                .where("label_noise_rel is null and above_noise is null").count());
    }

    /** The committed version of a predictor folder (written by fit-predictor as latency/predictor/<hw>/v-NNNNNN/). */
    static String predictorDir(org.apache.spark.sql.SparkSession spark, String root, String hw) {
        var fs = new dev.hatspark.jobs.store.Fs(spark.sparkContext().hadoopConfiguration());
        return dev.hatspark.jobs.latency.LatencyPredictor.folder(fs, new dev.hatspark.jobs.store.Layout(root), hw).dir();
    }
}
