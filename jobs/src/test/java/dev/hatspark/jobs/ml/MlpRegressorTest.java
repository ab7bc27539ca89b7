package dev.hatspark.jobs.ml;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** MlpRegressor on a real local[2] session, inside a Pipeline, with save/load round trips. */
class MlpRegressorTest {
    static final int FEATURES = 8;
    static SparkSession spark;
    static Dataset<Row> train;
    static Dataset<Row> test;
    static Pipeline pipeline;
    static PipelineModel fitted;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("MlpRegressorTest")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        Dataset<Row>[] split = synthetic(1500, 7).randomSplit(new double[]{0.8, 0.2}, 11);
        train = split[0].cache();
        test = split[1].cache();
        pipeline = new Pipeline().setStages(new PipelineStage[]{
                new VectorAssembler().setInputCols(columns()).setOutputCol("raw"),
                new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true),
                new MlpRegressor().setHiddenLayers(64, 64).setMaxIter(150)});
        fitted = pipeline.fit(train);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** y = 3 x0 x1 + sin(x2) + x3^2 + noise; x4..x7 are distractors. */
    static Dataset<Row> synthetic(int n, long seed) {
        Random rnd = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            Object[] v = new Object[FEATURES + 1];
            double[] x = new double[FEATURES];
            for (int i = 0; i < FEATURES; i++) v[i] = x[i] = 2 * rnd.nextDouble() - 1;
            v[FEATURES] = 3 * x[0] * x[1] + Math.sin(x[2]) + x[3] * x[3] + 0.05 * rnd.nextGaussian();
            rows.add(RowFactory.create(v));
        }
        StructType schema = new StructType();
        for (String c : columns()) schema = schema.add(c, DataTypes.DoubleType);
        return spark.createDataFrame(rows, schema.add("label", DataTypes.DoubleType));
    }

    static String[] columns() {
        String[] cols = new String[FEATURES];
        for (int i = 0; i < FEATURES; i++) cols[i] = "x" + i;
        return cols;
    }

    static double rmse(Dataset<Row> predictions) {
        return predictions.selectExpr("sqrt(avg(pow(prediction - label, 2)))").first().getDouble(0);
    }

    static double[] predictions(Dataset<Row> scored) {
        return scored.sort("x0").select("prediction").as(Encoders.DOUBLE())
                .collectAsList().stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void beatsLinearRegressionAndTheMean() {
        double mlp = rmse(fitted.transform(test));
        Dataset<Row> scaledTrain = fitted.transform(train).drop("prediction");
        double linear = rmse(new LinearRegression().fit(scaledTrain)
                .transform(fitted.transform(test).drop("prediction")));
        double mean = train.selectExpr("avg(label)").first().getDouble(0);
        double constant = rmse(test.selectExpr("label", mean + " AS prediction"));
        System.out.printf("test RMSE: mlp %.4f, linear %.4f, constant %.4f%n", mlp, linear, constant);
        assertTrue(mlp < 0.5 * linear, "MLP " + mlp + " vs linear " + linear);
        assertTrue(mlp < 0.3 * constant, "MLP " + mlp + " vs constant " + constant);
    }

    @Test
    void fittedPipelineSavesAndLoads(@TempDir Path dir) throws Exception {
        String path = dir.resolve("model").toString();
        fitted.save(path);
        PipelineModel loaded = PipelineModel.load(path);
        MlpRegressionModel model = (MlpRegressionModel) loaded.stages()[2];
        assertEquals(fitted.stages()[2].uid(), model.uid());
        assertArrayEquals(new int[]{FEATURES, 64, 64, 1}, model.layers());
        assertArrayEquals(predictions(fitted.transform(test)), predictions(loaded.transform(test)));
    }

    @Test
    void unfittedPipelineSavesAndLoads(@TempDir Path dir) throws Exception {
        String path = dir.resolve("pipeline").toString();
        pipeline.save(path);
        MlpRegressor original = (MlpRegressor) pipeline.getStages()[2];
        MlpRegressor loaded = (MlpRegressor) Pipeline.load(path).getStages()[2];
        assertEquals(original.uid(), loaded.uid());
        assertArrayEquals(new int[]{64, 64}, loaded.getHiddenLayers());
        assertEquals(150, loaded.getMaxIter());
        assertTrue(loaded.isSet(loaded.maxIter()));
        assertFalse(loaded.isSet(loaded.seed()));
        assertEquals(42L, loaded.getSeed());
        for (Param<?> p : original.params()) {
            Param<Object> q = loaded.getParam(p.name());
            assertEquals(original.isSet(p), loaded.isSet(q), p.name());
            assertEquals(original.getParam(p.name()).jsonEncode(original.getOrDefault(p)),
                    q.jsonEncode(loaded.getOrDefault(q)), p.name());
        }
    }

    @Test
    void singleVectorPredictMatchesTransform() {
        MlpRegressionModel model = (MlpRegressionModel) fitted.stages()[2];
        for (Row r : fitted.transform(test).limit(20).collectAsList()) {
            Vector features = r.getAs("features");
            assertEquals(r.<Double>getAs("prediction"), model.predict(features));
        }
    }

    @Test
    void sameSeedSameModel() {
        Dataset<Row> scaledTrain = fitted.transform(train).drop("prediction");
        Dataset<Row> scaledTest = fitted.transform(test).drop("prediction");
        MlpRegressor mlp = new MlpRegressor().setHiddenLayers(16, 16).setMaxIter(25).setSeed(5);
        double[] a = predictions(mlp.fit(scaledTrain).transform(scaledTest));
        double[] b = predictions(mlp.copy(ParamMap.empty()).fit(scaledTrain).transform(scaledTest));
        double[] c = predictions(mlp.setSeed(6).fit(scaledTrain).transform(scaledTest));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void copesWithUnscaledFeaturesAndLabels() {
        // latency-like data: raw features around 1000, labels around 200 ms, no StandardScaler
        String[] exprs = new String[FEATURES + 1];
        for (int i = 0; i < FEATURES; i++) exprs[i] = "1000 + 500 * x" + i + " AS x" + i;
        exprs[FEATURES] = "200 + 30 * label AS label";
        Dataset<Row> big = new VectorAssembler().setInputCols(columns()).setOutputCol("raw")
                .transform(train.selectExpr(exprs));
        double labelStd = big.selectExpr("stddev(label)").first().getDouble(0);
        for (boolean standardize : new boolean[]{true, false}) {
            MlpRegressionModel model = new MlpRegressor().setFeaturesCol("raw").setHiddenLayers(16, 16)
                    .setMaxIter(60).setStandardizeLabel(standardize).fit(big);
            double rmse = rmse(model.transform(big));
            System.out.printf("unscaled, standardizeLabel=%s: train RMSE %.3f, label std %.3f%n", standardize, rmse, labelStd);
            assertTrue(rmse < 0.4 * labelStd, "standardizeLabel=" + standardize + ": RMSE " + rmse);
        }
    }

    @Test
    void invalidParamsAreRejected() {
        MlpRegressor mlp = new MlpRegressor();
        assertThrows(IllegalArgumentException.class, () -> mlp.setHiddenLayers(64, 0));
        assertThrows(IllegalArgumentException.class, () -> mlp.setMaxIter(0));
        assertThrows(IllegalArgumentException.class, () -> mlp.setRegParam(-1));
        assertArrayEquals(new int[]{400, 400, 400}, mlp.getHiddenLayers());
    }

    @Test
    void badColumnsAreNamed() {
        Dataset<Row> scaled = fitted.transform(train).drop("prediction");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new MlpRegressor().setFeaturesCol("nope").fit(scaled));
        assertTrue(missing.getMessage().contains("'nope'"), missing.getMessage());
        IllegalArgumentException notVector = assertThrows(IllegalArgumentException.class,
                () -> new MlpRegressor().setFeaturesCol("x0").fit(scaled));
        assertTrue(notVector.getMessage().contains("'x0'"), notVector.getMessage());
        IllegalArgumentException badLabel = assertThrows(IllegalArgumentException.class,
                () -> new MlpRegressor().setLabelCol("raw").fit(scaled));
        assertTrue(badLabel.getMessage().contains("'raw'"), badLabel.getMessage());
        MlpRegressionModel model = (MlpRegressionModel) fitted.stages()[2];
        IllegalArgumentException atTransform = assertThrows(IllegalArgumentException.class,
                () -> model.copy(ParamMap.empty()).setFeaturesCol("x1").transform(scaled));
        assertTrue(atTransform.getMessage().contains("'x1'"), atTransform.getMessage());
    }
}
