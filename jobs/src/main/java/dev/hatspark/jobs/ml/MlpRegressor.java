package dev.hatspark.jobs.ml;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.mllib.optimization.LBFGS;
import org.apache.spark.mllib.optimization.SquaredL2Updater;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Function1;
import scala.Tuple2;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * Multilayer-perceptron regressor (ReLU hidden layers, linear output, mean squared error), for
 * predicting a Transformer's latency from its architecture features as in HAT.
 *
 * <p>Training is full-batch L-BFGS ({@link LBFGS}, with {@link SquaredL2Updater} for the L2 term):
 * each loss/gradient evaluation broadcasts the weights and sums {@link MlpNet.SquaredError} over
 * the RDD with {@code treeAggregate}; the L-BFGS step runs on the driver. L-BFGS was chosen over
 * mllib's mini-batch SGD (mllib has no Adam): with a few thousand rows a full batch is cheap, and a
 * quasi-Newton step with a line search needs no learning rate and gets much further per pass. On
 * the synthetic test problem ([64, 64], 150 passes over 1,200 rows) L-BFGS reached test RMSE 0.20,
 * GradientDescent 0.47-0.71 for its best step sizes and diverged for larger ones.
 *
 * <p>Scaling: features are standardised internally for training (a near no-op after a
 * StandardScaler) and that scaling is folded into the first layer afterwards, so raw inputs in
 * the thousands train as well as scaled ones; with {@code standardizeLabel} the label is too, and
 * the model maps predictions back to label units.
 *
 * <p>Reproducibility: initial weights come from {@code seed}; the label and feature statistics
 * are summed per partition and added on the driver in partition order; LBFGS adds per-partition
 * gradient sums on the driver in task completion order. Two partial sums add identically in
 * either order, so a fit on data with at most two partitions (e.g. local[2]) is bit-for-bit
 * repeatable; with more partitions results can differ in the last bits.
 */
public final class MlpRegressor extends Estimator<MlpRegressionModel> implements MLWritable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MlpRegressor.class);

    private final String uid;
    private final Param<String> featuresCol;
    private final Param<String> labelCol;
    private final Param<String> predictionCol;
    private final IntArrayParam hiddenLayers;
    private final IntParam maxIter;
    private final DoubleParam regParam;
    private final DoubleParam tol;
    private final LongParam seed;
    private final BooleanParam standardizeLabel;

    public MlpRegressor() {
        this(Identifiable.randomUID("mlpReg"));
    }

    public MlpRegressor(String uid) {
        this.uid = uid;  // params read uid() on construction, so it is assigned first
        featuresCol = new Param<>(this, "featuresCol", "features column (Vector)");
        labelCol = new Param<>(this, "labelCol", "label column (numeric)");
        predictionCol = new Param<>(this, "predictionCol", "prediction column to add");
        hiddenLayers = new IntArrayParam(this, "hiddenLayers", "sizes of the ReLU hidden layers", positiveSizes());
        maxIter = new IntParam(this, "maxIter", "maximum L-BFGS iterations (> 0)", ParamValidators.gt(0));
        regParam = new DoubleParam(this, "regParam", "L2 regularisation strength (>= 0)", ParamValidators.gtEq(0));
        tol = new DoubleParam(this, "tol", "L-BFGS convergence tolerance (>= 0)", ParamValidators.gtEq(0));
        seed = new LongParam(this, "seed", "seed of the weight initialisation");
        standardizeLabel = new BooleanParam(this, "standardizeLabel",
                "train on (label - mean) / std and map predictions back");
        setDefault(featuresCol, "features");
        setDefault(labelCol, "label");
        setDefault(predictionCol, "prediction");
        setDefault(hiddenLayers, new int[]{400, 400, 400});
        setDefault(maxIter, 200);
        setDefault(regParam, 1e-4);
        setDefault(tol, 1e-7);
        setDefault(seed, 42L);
        setDefault(standardizeLabel, true);
    }

    private static Function1<int[], Object> positiveSizes() {
        return (Function1<int[], Object> & Serializable) sizes -> Arrays.stream(sizes).allMatch(n -> n > 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> featuresCol() { return featuresCol; }
    public Param<String> labelCol() { return labelCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public IntArrayParam hiddenLayers() { return hiddenLayers; }
    public IntParam maxIter() { return maxIter; }
    public DoubleParam regParam() { return regParam; }
    public DoubleParam tol() { return tol; }
    public LongParam seed() { return seed; }
    public BooleanParam standardizeLabel() { return standardizeLabel; }

    public String getFeaturesCol() { return $(featuresCol); }
    public String getLabelCol() { return $(labelCol); }
    public String getPredictionCol() { return $(predictionCol); }
    public int[] getHiddenLayers() { return $(hiddenLayers).clone(); }
    public int getMaxIter() { return (Integer) $(maxIter); }
    public double getRegParam() { return (Double) $(regParam); }
    public double getTol() { return (Double) $(tol); }
    public long getSeed() { return (Long) $(seed); }
    public boolean getStandardizeLabel() { return (Boolean) $(standardizeLabel); }

    public MlpRegressor setFeaturesCol(String v) { set(featuresCol, v); return this; }
    public MlpRegressor setLabelCol(String v) { set(labelCol, v); return this; }
    public MlpRegressor setPredictionCol(String v) { set(predictionCol, v); return this; }
    public MlpRegressor setHiddenLayers(int... v) { set(hiddenLayers, v.clone()); return this; }
    public MlpRegressor setMaxIter(int v) { set(maxIter, v); return this; }
    public MlpRegressor setRegParam(double v) { set(regParam, v); return this; }
    public MlpRegressor setTol(double v) { set(tol, v); return this; }
    public MlpRegressor setSeed(long v) { set(seed, v); return this; }
    public MlpRegressor setStandardizeLabel(boolean v) { set(standardizeLabel, v); return this; }

    @Override
    public StructType transformSchema(StructType schema) {
        MlIo.requireNumeric(schema, "label", getLabelCol());
        return MlpRegressionModel.outputSchema(schema, getFeaturesCol(), getPredictionCol());
    }

    @Override
    public MlpRegressionModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        JavaRDD<Tuple2<Object, org.apache.spark.mllib.linalg.Vector>> data = dataset
                .select(col(getLabelCol()).cast("double"), col(getFeaturesCol()))
                .javaRDD()
                .map(r -> new Tuple2<Object, org.apache.spark.mllib.linalg.Vector>(
                        r.getDouble(0), Vectors.fromML((Vector) r.get(1))));
        // LBFGS passes over the data once per evaluation: keep it cached
        data.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = data.count();
            if (n == 0) throw new BadInputException("MlpRegressor: no training rows");
            int[] layers = layerSizes(data.first()._2().size(), getHiddenLayers());
            // column 0 is the label, 1..d the features
            double[][] stats = meanAndStd(data, n, layers[0] + 1);
            double[] mean = stats[0], std = stats[1];
            double labelMean = getStandardizeLabel() ? mean[0] : 0, labelStd = getStandardizeLabel() ? std[0] : 1;
            double[] featureMean = Arrays.copyOfRange(mean, 1, mean.length);
            double[] featureStd = Arrays.copyOfRange(std, 1, std.length);
            Tuple2<org.apache.spark.mllib.linalg.Vector, double[]> result = LBFGS.runLBFGS(
                    data.rdd(),
                    new MlpNet.SquaredError(layers, featureMean, featureStd, labelMean, labelStd),
                    new SquaredL2Updater(),
                    10,  // L-BFGS history size, mllib's default
                    getTol(), getMaxIter(), getRegParam(),
                    Vectors.dense(MlpNet.initialWeights(layers, getSeed())));
            double[] losses = result._2();
            LOG.info("MlpRegressor {}: {} L-BFGS iterations, loss {} -> {}",
                    uid, losses.length - 1, losses[0], losses[losses.length - 1]);
            double[] weights = MlpNet.foldInputScaling(layers, result._1().toArray(), featureMean, featureStd);
            MlpRegressionModel model = new MlpRegressionModel(uid, new MlpNet(layers, weights, labelMean, labelStd));
            return copyValues(model, ParamMap.empty()).setParent(this);
        } finally {
            data.unpersist(false);
        }
    }

    private static int[] layerSizes(int numFeatures, int[] hidden) {
        int[] layers = new int[hidden.length + 2];
        layers[0] = numFeatures;
        System.arraycopy(hidden, 0, layers, 1, hidden.length);
        layers[layers.length - 1] = 1;
        return layers;
    }

    /**
     * Mean and sample standard deviation of (label, features...), in two passes (stable for
     * latencies in the hundreds). A constant column gets std 1, so it is only centred.
     */
    private static double[][] meanAndStd(JavaRDD<Tuple2<Object, org.apache.spark.mllib.linalg.Vector>> data,
                                         long n, int size) {
        double[] mean = sumByPartition(data.map(MlpRegressor::labelAndFeatures), size);
        for (int i = 0; i < size; i++) mean[i] /= n;
        double[] var = sumByPartition(data.map(t -> {
            double[] r = labelAndFeatures(t);
            for (int i = 0; i < r.length; i++) r[i] = (r[i] - mean[i]) * (r[i] - mean[i]);
            return r;
        }), size);
        double[] std = new double[size];
        for (int i = 0; i < size; i++) std[i] = n > 1 && var[i] > 0 ? Math.sqrt(var[i] / (n - 1)) : 1;
        return new double[][]{mean, std};
    }

    private static double[] labelAndFeatures(Tuple2<Object, org.apache.spark.mllib.linalg.Vector> t) {
        double[] x = t._2().toArray();
        double[] r = new double[x.length + 1];
        r[0] = (Double) t._1();
        System.arraycopy(x, 0, r, 1, x.length);
        return r;
    }

    /**
     * Element-wise sum of equally long rows: each partition sums its own, and the driver adds the
     * partial sums in partition order, so the result does not depend on task completion order.
     */
    private static double[] sumByPartition(JavaRDD<double[]> rows, int size) {
        List<double[]> partials = rows.mapPartitions(it -> {
            double[] s = new double[size];
            while (it.hasNext()) {
                double[] r = it.next();
                if (r.length != size) {
                    throw new BadInputException("features vectors differ in size: " + (r.length - 1) + " and " + (size - 1));
                }
                for (int i = 0; i < size; i++) s[i] += r[i];
            }
            return List.of(s).iterator();
        }).collect();
        double[] sum = new double[size];
        for (double[] s : partials) for (int i = 0; i < size; i++) sum[i] += s[i];
        return sum;
    }

    @Override
    public MlpRegressor copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                MlIo.saveMetadata(MlpRegressor.this, path, sc());
            }
        };
    }

    public static MLReader<MlpRegressor> read() {
        return new MLReader<>() {
            @Override
            public MlpRegressor load(String path) {
                JsonNode meta = MlIo.loadMetadata(path, sparkSession(), MlpRegressor.class);
                MlpRegressor estimator = new MlpRegressor(meta.get("uid").asText());
                MlIo.setParams(meta, estimator, estimator::setDefault);
                return estimator;
            }
        };
    }

    public static MlpRegressor load(String path) {
        return read().load(path);
    }
}
