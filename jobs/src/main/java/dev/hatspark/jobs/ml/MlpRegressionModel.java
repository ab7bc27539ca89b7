package dev.hatspark.jobs.ml;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * A fitted {@link MlpRegressor}: adds the prediction column, and scores single vectors in-process
 * with {@link #predict(Vector)}. Saved as Spark ML metadata plus one Parquet row (layer sizes,
 * weights, label mean and std) under {@code path/data}.
 */
public final class MlpRegressionModel extends Model<MlpRegressionModel> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final MlpNet net;
    private final Param<String> featuresCol;
    private final Param<String> predictionCol;

    MlpRegressionModel(String uid, MlpNet net) {
        this.uid = uid;
        this.net = net;
        featuresCol = new Param<>(this, "featuresCol", "features column (Vector)");
        predictionCol = new Param<>(this, "predictionCol", "prediction column to add");
        setDefault(featuresCol, "features");
        setDefault(predictionCol, "prediction");
    }

    /**
     * A model with given weights (layout of {@link #layers()}: per layer the out×in matrix row-major,
     * then the out biases), predicting {@code output * labelStd + labelMean}: how a network trained
     * elsewhere, such as one of HAT's latency predictors, becomes a Spark ML stage.
     */
    public static MlpRegressionModel of(String uid, int[] layers, double[] weights, double labelMean, double labelStd) {
        return new MlpRegressionModel(uid, new MlpNet(layers.clone(), weights.clone(), labelMean, labelStd));
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() { return featuresCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public String getFeaturesCol() { return $(featuresCol); }
    public String getPredictionCol() { return $(predictionCol); }
    public MlpRegressionModel setFeaturesCol(String v) { set(featuresCol, v); return this; }
    public MlpRegressionModel setPredictionCol(String v) { set(predictionCol, v); return this; }

    /** Layer sizes: number of features, hidden sizes..., 1. */
    public int[] layers() {
        return net.layers.clone();
    }

    public int numFeatures() {
        return net.layers[0];
    }

    /** The prediction for one feature vector, computed locally (no Spark job). */
    public double predict(Vector features) {
        return net.predict(features.toArray());
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return outputSchema(schema, getFeaturesCol(), getPredictionCol());
    }

    static StructType outputSchema(StructType schema, String featuresCol, String predictionCol) {
        MlIo.requireVector(schema, "features", featuresCol);
        if (Arrays.asList(schema.fieldNames()).contains(predictionCol)) {
            throw new BadInputException("prediction column '" + predictionCol + "' already exists");
        }
        return schema.add(predictionCol, DataTypes.DoubleType, true);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        MlpNet net = this.net;  // the UDF ships the network, not this model
        UserDefinedFunction predict = udf(
                (UDF1<Vector, Double>) v -> v == null ? null : net.predict(v.toArray()), DataTypes.DoubleType);
        return dataset.withColumn(getPredictionCol(), predict.apply(col(getFeaturesCol())));
    }

    @Override
    public MlpRegressionModel copy(ParamMap extra) {
        // not defaultCopy: that rebuilds from the uid alone and would lose the weights
        return copyValues(new MlpRegressionModel(uid, net), extra).setParent(parent());
    }

    private static final StructType DATA_SCHEMA = new StructType()
            .add("layers", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
            .add("weights", SQLDataTypes.VectorType(), false)
            .add("labelMean", DataTypes.DoubleType, false)
            .add("labelStd", DataTypes.DoubleType, false);

    @Override
    public MLWriter write() {
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                MlIo.saveMetadata(MlpRegressionModel.this, path, sc());
                Row row = RowFactory.create(Arrays.stream(net.layers).boxed().toArray(Integer[]::new),
                        Vectors.dense(net.weights), net.labelMean, net.labelStd);
                sparkSession().createDataFrame(List.of(row), DATA_SCHEMA)
                        .write().parquet(new Path(path, "data").toString());
            }
        };
    }

    public static MLReader<MlpRegressionModel> read() {
        return new MLReader<>() {
            @Override
            public MlpRegressionModel load(String path) {
                JsonNode meta = MlIo.loadMetadata(path, sparkSession(), MlpRegressionModel.class);
                Row row = sparkSession().read().parquet(new Path(path, "data").toString()).first();
                int[] layers = row.<Integer>getList(row.fieldIndex("layers")).stream().mapToInt(Integer::intValue).toArray();
                double[] weights = ((Vector) row.getAs("weights")).toArray();
                MlpNet net = new MlpNet(layers, weights, row.getAs("labelMean"), row.getAs("labelStd"));
                MlpRegressionModel model = new MlpRegressionModel(meta.get("uid").asText(), net);
                MlIo.setParams(meta, model, model::setDefault);
                return model;
            }
        };
    }

    public static MlpRegressionModel load(String path) {
        return read().load(path);
    }
}
