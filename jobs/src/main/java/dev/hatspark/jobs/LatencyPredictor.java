package dev.hatspark.jobs;

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
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        String dir = layout.predictor(hardwareId);
        if (!fs.exists(Fs.join(dir, "features.json"))) {
            List<String> fitted = fs.list(Fs.join(layout.root(), "latency", "predictor")).stream()
                    .filter(n -> !n.startsWith(".") && !n.contains("._tmp-")).toList();
            throw new IllegalArgumentException("no latency predictor for hardware id '" + hardwareId + "' at " + dir
                    + " (fitted: " + (fitted.isEmpty() ? "none" : String.join(", ", fitted)) + "): run fit-predictor"
                    + " --hardware-id " + hardwareId + " first");
        }
        FeatureSpec spec = FeatureSpec.fromJson(fs.readText(Fs.join(dir, "features.json")), dir + "/features.json");
        return new LatencyPredictor(PipelineModel.load(Fs.join(dir, "model")), spec, hardwareId);
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
    static Dataset<Row> withFeatures(SparkSession spark, Dataset<Row> rows, FeatureSpec spec) {
        String name = "hat_features_" + Integer.toHexString(spec.hashCode());
        UDF1<String, Vector> f = json -> Vectors.dense(spec.vectors(List.of(ArchConfig.fromJson(json)))[0]);
        spark.udf().register(name, f, new VectorUDT());
        return rows.withColumn(FEATURES, callUDF(name, col("config_json")));
    }
}
