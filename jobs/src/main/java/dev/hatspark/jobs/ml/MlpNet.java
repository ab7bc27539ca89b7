package dev.hatspark.jobs.ml;

import dev.hatspark.util.BadInputException;
import org.apache.spark.mllib.linalg.DenseVector;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.optimization.Gradient;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Random;

/**
 * A fully connected network with ReLU hidden layers and one linear output. All weights live in one
 * flat array (the layout mllib's optimisers work on): for each layer, its out×in matrix row-major,
 * then its out biases.
 */
final class MlpNet implements Serializable {
    private static final long serialVersionUID = 1L;

    final int[] layers;       // input size, hidden sizes..., 1
    final double[] weights;
    final double labelMean;   // predictions are mapped back with y = out * labelStd + labelMean
    final double labelStd;

    MlpNet(int[] layers, double[] weights, double labelMean, double labelStd) {
        if (layers.length < 2 || layers[layers.length - 1] != 1 || weights.length != numWeights(layers)) {
            throw new BadInputException("weights do not match layer sizes " + Arrays.toString(layers));
        }
        this.layers = layers;
        this.weights = weights;
        this.labelMean = labelMean;
        this.labelStd = labelStd;
    }

    static int numWeights(int[] layers) {
        int n = 0;
        for (int l = 1; l < layers.length; l++) n += layers[l] * (layers[l - 1] + 1);
        return n;
    }

    /** He-normal for ReLU layers, Glorot-normal for the linear output, zero biases; fixed by {@code seed}. */
    static double[] initialWeights(int[] layers, long seed) {
        Random rnd = new Random(seed);
        double[] w = new double[numWeights(layers)];
        int off = 0;
        for (int l = 1; l < layers.length; l++) {
            int in = layers[l - 1], out = layers[l];
            double scale = l < layers.length - 1 ? Math.sqrt(2.0 / in) : Math.sqrt(2.0 / (in + out));
            for (int k = 0; k < out * in; k++) w[off + k] = scale * rnd.nextGaussian();
            off += out * (in + 1);
        }
        return w;
    }

    /** Prediction in label units. */
    double predict(double[] x) {
        checkSize(layers, x.length);
        return forward(layers, weights, x, null) * labelStd + labelMean;
    }

    static void checkSize(int[] layers, int size) {
        if (size != layers[0]) {
            throw new BadInputException("features vector has size " + size + " but the network expects " + layers[0]);
        }
    }

    /**
     * The network output for input {@code x}. If {@code acts} is given, acts[l] (l >= 1) receives
     * layer l's activations, which backprop needs.
     */
    static double forward(int[] layers, double[] w, double[] x, double[][] acts) {
        double[] a = x;
        int off = 0;
        for (int l = 1; l < layers.length; l++) {
            int in = layers[l - 1], out = layers[l];
            double[] z = acts != null ? acts[l] : new double[out];
            boolean relu = l < layers.length - 1;
            int bias = off + out * in;
            for (int j = 0; j < out; j++) {
                double s = w[bias + j];
                int row = off + j * in;
                for (int i = 0; i < in; i++) s += w[row + i] * a[i];
                z[j] = relu && s < 0 ? 0 : s;
            }
            off = bias + out;
            a = z;
        }
        return a[0];
    }

    /**
     * Folds input standardisation into the first layer: the returned weights applied to x equal
     * {@code w} applied to (x - mean) / std.
     */
    static double[] foldInputScaling(int[] layers, double[] w, double[] mean, double[] std) {
        double[] folded = w.clone();
        int in = layers[0], out = layers[1];
        for (int j = 0; j < out; j++) {
            int row = j * in;
            double shift = 0;
            for (int i = 0; i < in; i++) {
                folded[row + i] = w[row + i] / std[i];
                shift += folded[row + i] * mean[i];
            }
            folded[out * in + j] -= shift;
        }
        return folded;
    }

    /**
     * Squared error 0.5 (f(x') - y')^2 of one example and its gradient by backprop, where x' and y'
     * are the features and label standardised with the given means and stds (the features'
     * scaling is folded into the weights after training). mllib's LBFGS sums this over the RDD and
     * divides by the count.
     */
    static final class SquaredError extends Gradient {
        private static final long serialVersionUID = 1L;
        private final int[] layers;
        private final double[] featureMean;
        private final double[] featureStd;
        private final double labelMean;
        private final double labelStd;

        SquaredError(int[] layers, double[] featureMean, double[] featureStd, double labelMean, double labelStd) {
            this.layers = layers;
            this.featureMean = featureMean;
            this.featureStd = featureStd;
            this.labelMean = labelMean;
            this.labelStd = labelStd;
        }

        @Override
        public double compute(Vector features, double label, Vector weights, Vector cumGradient) {
            checkSize(layers, features.size());
            double[] w = weights.toArray();                     // dense: no copy
            double[] g = ((DenseVector) cumGradient).values();  // LBFGS accumulates into a dense vector
            int depth = layers.length;
            double[][] acts = new double[depth][];
            acts[0] = features.toArray().clone();  // toArray may share the vector's storage
            for (int i = 0; i < acts[0].length; i++) acts[0][i] = (acts[0][i] - featureMean[i]) / featureStd[i];
            for (int l = 1; l < depth; l++) acts[l] = new double[layers[l]];
            double err = forward(layers, w, acts[0], acts) - (label - labelMean) / labelStd;

            double[] delta = {err};  // dLoss/dz of the current layer
            int off = w.length;
            for (int l = depth - 1; l >= 1; l--) {
                int in = layers[l - 1], out = layers[l];
                off -= out * (in + 1);
                int bias = off + out * in;
                double[] a = acts[l - 1];
                double[] back = l > 1 ? new double[in] : null;
                for (int j = 0; j < out; j++) {
                    double d = delta[j];
                    if (d == 0) continue;  // dead ReLU: nothing flows through this unit
                    int row = off + j * in;
                    g[bias + j] += d;
                    for (int i = 0; i < in; i++) {
                        g[row + i] += d * a[i];
                        if (back != null) back[i] += w[row + i] * d;
                    }
                }
                if (back != null) {
                    for (int i = 0; i < in; i++) if (a[i] <= 0) back[i] = 0;  // ReLU derivative
                }
                delta = back;
            }
            return 0.5 * err * err;
        }
    }
}
