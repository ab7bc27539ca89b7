package dev.hatspark.jobs.latency;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.ml.MlpRegressionModel;
import dev.hatspark.latency.FeatureSpec;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.ElementwiseProduct;
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
import org.apache.spark.sql.Column;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import dev.hatspark.jobs.store.Tables;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

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
        return predictFeaturesMs(spec.vectors(List.of(c))[0]);
    }

    /**
     * Predicted latency in ms of one feature vector (the spec's features), computed in this JVM with
     * the same arithmetic as the pipeline's Spark stages, so both paths give the same double.
     */
    public double predictFeaturesMs(double[] features) {
        Vector x = Vectors.dense(features.clone());
        for (Transformer stage : pipeline.stages()) {
            if (stage instanceof StandardScalerModel s) {
                x = scale(s, x);
            } else if (stage instanceof ElementwiseProduct e) {
                double[] v = x.toArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= e.getScalingVec().apply(i);
                }
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

    /** As StandardScalerModel.transform computes it: (x - mean) * (1 / std), 0 where std is 0. */
    private static Vector scale(StandardScalerModel s, Vector x) {
        double[] v = x.toArray();
        for (int i = 0; i < v.length; i++) {
            if (s.getWithMean()) {
                v[i] -= s.mean().apply(i);
            }
            if (s.getWithStd()) {
                double sd = s.std().apply(i);
                v[i] *= sd == 0 ? 0 : 1.0 / sd;
            }
        }
        return Vectors.dense(v);
    }

    /**
     * Scores configs on the executors: {@code config_json} column in, {@link Tables#PREDICTED_LATENCY}
     * out (config_json in our canonical form). The pipeline's stages run as Spark ML transforms whose
     * closures (the network's weights among them) travel in the stage's task binary, which Spark
     * broadcasts once per job, so each executor receives the pipeline once, not once per task.
     */
    public Dataset<Row> score(Dataset<Row> configs) {
        SparkSession spark = configs.sparkSession();
        String name = "hat_config_and_hat10";
        UDF1<String, Row> parse = json -> {
            ArchConfig c = ArchConfig.fromJson(json);
            double[] f = dev.hatspark.latency.Features.hat10(c);
            return RowFactory.create(c.hash(), c.toJson(), f);
        };
        spark.udf().register(name, parse, new StructType().add("hash", DataTypes.StringType)
                .add("json", DataTypes.StringType).add("hat10", DataTypes.createArrayType(DataTypes.DoubleType)));
        Dataset<Row> parsed = configs.select(callUDF(name, col("config_json")).as("c"))
                .select(col("c.hash").as("config_hash"), col("c.json").as("config_json"), col("c.hat10").as("hat10"));
        List<Column> out = new ArrayList<>();
        for (StructField f : Tables.PREDICTED_LATENCY.fields()) {
            int hat10 = dev.hatspark.latency.Features.HAT10.indexOf(f.name());
            Column c = f.name().equals("hardware_id") ? lit(hardwareId)
                    : hat10 >= 0 ? col("hat10").getItem(hat10) : col(f.name());
            out.add(c.cast(f.dataType()).as(f.name()));
        }
        return transform(parsed).select(out.toArray(Column[]::new));
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
