package dev.hatspark.jobs.latency;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.ml.MlpRegressionModel;
import dev.hatspark.latency.FeatureSpec;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.regression.GBTRegressionModel;
import org.apache.spark.ml.regression.LinearRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;

import java.io.Serializable;
import java.util.List;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;

/**
 * A fitted latency predictor: the MLlib {@link PipelineModel} (scaler → regressor) plus the
 * {@link FeatureSpec} it was fitted on. Scores Datasets with Spark ({@link #transform}) or single
 * configs in-process ({@link #predictMs}, no Spark job: what the search calls on the driver).
 */
public final class LatencyPredictor implements Serializable {
    public static final String FEATURES = "features";

    private final PipelineModel pipeline;
    private final FeatureSpec spec;
    private final String hardwareId;

    public LatencyPredictor(PipelineModel pipeline, FeatureSpec spec, String hardwareId) {
        this.pipeline = pipeline;
        this.spec = spec;
        this.hardwareId = hardwareId;
    }

    /** Loads {@code latency/predictor/<hardwareId>/} of a run root. */
    public static LatencyPredictor load(SparkSession spark, Layout layout, String hardwareId) {
        LatencyPredictor p = find(spark, layout, hardwareId);
        if (p == null) {
            List<String> fitted = new Fs(spark.sparkContext().hadoopConfiguration()).listIds(layout.predictors());
            throw new BadInputException("no latency predictor for hardware id '" + hardwareId + "' at "
                    + layout.predictor(hardwareId).dir() + " (fitted: " + (fitted.isEmpty() ? "none" : String.join(", ", fitted))
                    + "): run fit-predictor --hardware-id " + hardwareId + " first");
        }
        return p;
    }

    /** The predictor of a hardware id, or null when none was fitted (or imported) for it. */
    public static LatencyPredictor find(SparkSession spark, Layout layout, String hardwareId) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout.Predictor dir = folder(fs, layout, hardwareId);
        if (!fs.exists(dir.features())) {
            return null;
        }
        FeatureSpec spec = FeatureSpec.fromJson(fs.readText(dir.features()), dir.features());
        return new LatencyPredictor(PipelineModel.load(dir.model()), spec, hardwareId);
    }

    /** The predictor folder of a hardware id to read: its committed version ({@link Fs#commitVersion}). */
    public static Layout.Predictor folder(Fs fs, Layout layout, String hardwareId) {
        Layout.Predictor p = layout.predictor(hardwareId);
        return p.at(fs.current(p.dir()));
    }

    public FeatureSpec spec() {
        return spec;
    }

    public String hardwareId() {
        return hardwareId;
    }

    public PipelineModel pipeline() {
        return pipeline;
    }

    /** Predicted latency in ms of one config, computed in this JVM from the pipeline's parameters. */
    public double predictMs(ArchConfig c) {
        Vector x = Vectors.dense(spec.vectors(List.of(c))[0]);
        for (Transformer stage : pipeline.stages()) {
            if (stage instanceof StandardScalerModel s) {
                x = scale(s, x);
            } else if (stage instanceof MlpRegressionModel m) {
                return m.predict(x);
            } else if (stage instanceof LinearRegressionModel l) {
                return l.predict(x);
            } else if (stage instanceof GBTRegressionModel g) {
                return g.predict(x);
            }
        }
        throw new IllegalStateException("predictor pipeline has no regressor stage");
    }

    private static Vector scale(StandardScalerModel s, Vector x) {
        double[] v = x.toArray();
        for (int i = 0; i < v.length; i++) {
            if (s.getWithMean()) {
                v[i] -= s.mean().apply(i);
            }
            if (s.getWithStd()) {
                double sd = s.std().apply(i);
                v[i] = sd == 0 ? 0 : v[i] / sd;
            }
        }
        return Vectors.dense(v);
    }

    /** Adds {@code predicted_latency_ms} to rows that have a {@code config_json} column. */
    public Dataset<Row> transform(Dataset<Row> configs) {
        Dataset<Row> withFeatures = withFeatures(configs.sparkSession(), configs, spec);
        return pipeline.transform(withFeatures).withColumnRenamed("prediction", "predicted_latency_ms").drop(FEATURES);
    }

    /** Adds the {@code features} vector computed from {@code config_json}. */
    public static Dataset<Row> withFeatures(SparkSession spark, Dataset<Row> rows, FeatureSpec spec) {
        String name = "hat_features_" + Integer.toHexString(spec.hashCode());
        UDF1<String, Vector> f = json -> Vectors.dense(spec.vectors(List.of(ArchConfig.fromJson(json)))[0]);
        spark.udf().register(name, f, new VectorUDT());
        return rows.withColumn(FEATURES, callUDF(name, col("config_json")));
    }
}
