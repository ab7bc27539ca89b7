package dev.hatspark.latency;

import dev.hatspark.torch.TorchCheckpoint;
import dev.hatspark.torch.TorchTensor;
import dev.hatspark.util.BadInputException;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The weights of one of HAT's latency predictors ({@code latency_predictor.py}'s Net: {@code first_layer},
 * {@code layers.0..k-1}, {@code predict}, ReLU after every layer but the last) read from its
 * {@code state_dict}, flattened into the layout of our MLP (per layer the out×in matrix row-major,
 * then the out biases: PyTorch's {@code Linear.weight} is already out×in row-major).
 *
 * <p>HAT feeds the network the 10 features divided by {@code feature_norm} and multiplies its output
 * by {@code lat_norm} to get milliseconds; both are options of HAT's training script, not stored
 * in the file, so their published values are kept here.
 */
public record HatPredictorWeights(int[] layers, double[] weights) {
    /** HAT's {@code --feature-norm} default, used by every published predictor config. */
    public static final List<Double> FEATURE_NORM = List.of(640.0, 6.0, 2048.0, 6.0, 640.0, 6.0, 2048.0, 6.0, 6.0, 2.0);

    /**
     * HAT's {@code lat-norm} of the published predictor a file name names
     * ({@code configs/<task>/latency_predictor/{cpu_xeon,cpu_raspberrypi,gpu_titanxp}.yml}), or null when
     * the name names none of them (then it must be given: a wrong norm scales every prediction).
     */
    public static Double publishedLatNorm(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        if (n.contains("raspberrypi")) {
            return 5000.0;
        } else if (n.contains("xeon")) {
            return 300.0;
        } else if (n.contains("titanxp")) {
            return 200.0;
        }
        return null;
    }

    /** Reads a predictor file ({@code torch.save} of the state dict, legacy or zip format) held in memory. */
    public static HatPredictorWeights read(byte[] file, String source) {
        Object root;
        try {
            root = TorchCheckpoint.read(new ByteArrayInputStream(file), source);
        } catch (EOFException e) {
            throw new BadInputException(source + ": truncated: the file ends inside the checkpoint");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, TorchTensor> sd;
        try {
            sd = TorchCheckpoint.stateDict(root, null);
        } catch (BadInputException e) {
            throw new BadInputException(source + ": not a latency predictor's state_dict: "
                    + e.getMessage().replaceFirst("^state dict: ", ""));
        }
        return fromStateDict(sd, source);
    }

    /**
     * Reads the network from a state dict; any missing, unexpected or misshapen tensor is refused in
     * one line naming {@code source} and the key.
     */
    public static HatPredictorWeights fromStateDict(Map<String, TorchTensor> sd, String source) {
        Set<String> unused = new LinkedHashSet<>(sd.keySet());
        long[] first = shape(sd, "first_layer.weight", source);
        if (first.length != 2) {
            throw bad(source, "first_layer.weight", first, "[hidden, features]");
        }
        int hidden = (int) first[0];
        int features = (int) first[1];
        int depth = 0;
        while (sd.containsKey("layers." + depth + ".weight")) {
            depth++;
        }
        int[] layers = new int[depth + 3];
        layers[0] = features;
        Arrays.fill(layers, 1, depth + 2, hidden);
        layers[depth + 2] = 1;
        double[] w = new double[numWeights(layers)];
        int off = 0;
        for (int l = 1; l < layers.length; l++) {
            String name = l == 1 ? "first_layer" : l == layers.length - 1 ? "predict" : "layers." + (l - 2);
            off = copy(sd, name + ".weight", new long[] {layers[l], layers[l - 1]}, w, off, source, unused);
            off = copy(sd, name + ".bias", new long[] {layers[l]}, w, off, source, unused);
        }
        if (!unused.isEmpty()) {
            throw new BadInputException(source + ": '" + unused.iterator().next() + "' is not a tensor of HAT's latency"
                    + " predictor (first_layer, layers.N, predict .weight/.bias)");
        }
        return new HatPredictorWeights(layers, w);
    }

    static int numWeights(int[] layers) {
        int n = 0;
        for (int l = 1; l < layers.length; l++) {
            n += layers[l] * (layers[l - 1] + 1);
        }
        return n;
    }

    private static int copy(Map<String, TorchTensor> sd, String key, long[] expected, double[] w, int off, String source,
                            Set<String> unused) {
        long[] s = shape(sd, key, source);
        if (!Arrays.equals(s, expected)) {
            throw bad(source, key, s, Arrays.toString(expected));
        }
        TorchTensor t = sd.get(key);
        if (!t.dtype().startsWith("float") && !t.dtype().equals("bfloat16")) {
            throw new BadInputException(source + ": '" + key + "' is " + t.dtype() + ", expected a float tensor");
        }
        float[] f = t.floats();
        for (float v : f) {
            w[off++] = v;
        }
        unused.remove(key);
        return off;
    }

    private static long[] shape(Map<String, TorchTensor> sd, String key, String source) {
        TorchTensor t = sd.get(key);
        if (t == null) {
            throw new BadInputException(source + ": HAT latency predictor state_dict has no tensor '" + key + "'"
                    + " (keys: " + sd.keySet() + ")");
        }
        return t.shape();
    }

    private static BadInputException bad(String source, String key, long[] shape, String expected) {
        return new BadInputException(source + ": '" + key + "' has shape " + Arrays.toString(shape) + ", expected " + expected);
    }
}
