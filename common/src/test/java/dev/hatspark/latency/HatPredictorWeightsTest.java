package dev.hatspark.latency;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.util.BadInputException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HAT's latency-predictor state_dict read into our MLP's flat layout, against torch's own forward of
 * the synthetic fixture (resources/hat-predictor/make_fixture.py: HAT's Net with hidden width 8).
 */
class HatPredictorWeightsTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = HatPredictorWeightsTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    /** The forward of HAT's Net over the flat layout: ReLU after every layer but the last. */
    static double forward(HatPredictorWeights p, double[] x) {
        int[] layers = p.layers();
        double[] w = p.weights();
        double[] a = x;
        int off = 0;
        for (int l = 1; l < layers.length; l++) {
            int in = layers[l - 1], out = layers[l];
            double[] z = new double[out];
            for (int j = 0; j < out; j++) {
                double s = w[off + out * in + j];
                for (int i = 0; i < in; i++) {
                    s += w[off + j * in + i] * a[i];
                }
                z[j] = l < layers.length - 1 ? Math.max(0, s) : s;
            }
            off += out * (in + 1);
            a = z;
        }
        return a[0];
    }

    @Test
    void readsHatsNetAndReproducesTorch() throws IOException {
        HatPredictorWeights p = HatPredictorWeights.read(resource("/hat-predictor/predictor-legacy.pt"), "predictor-legacy.pt");
        assertArrayEquals(new int[] {10, 8, 8, 8, 8, 1}, p.layers());
        assertEquals(HatPredictorWeights.numWeights(p.layers()), p.weights().length);
        JsonNode e = new ObjectMapper().readTree(resource("/hat-predictor/expected.json"));
        double latNorm = e.get("lat_norm").asDouble();
        for (int r = 0; r < e.get("features").size(); r++) {
            double[] x = new double[10];
            for (int i = 0; i < 10; i++) {
                x[i] = e.get("features").get(r).get(i).asDouble() / HatPredictorWeights.FEATURE_NORM.get(i);
            }
            double expected = e.get("predicted_ms").get(r).asDouble();
            assertEquals(expected, forward(p, x) * latNorm, Math.abs(expected) * 1e-5, "row " + r);
        }
    }

    @Test
    void refusesAMisshapenTensorNamingFileAndKey() {
        BadInputException e = assertThrows(BadInputException.class, () ->
                HatPredictorWeights.read(resource("/hat-predictor/predictor-bad-shape.pt"), "bad.pt"));
        assertTrue(e.getMessage().startsWith("bad.pt: 'predict.weight' has shape [2, 8]"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void refusesACheckpointThatIsNotAStateDict() {
        BadInputException e = assertThrows(BadInputException.class, () ->
                HatPredictorWeights.read(resource("/hat-oracle/supernet-legacy.pt"), "supernet.pt"));
        assertTrue(e.getMessage().startsWith("supernet.pt: not a latency predictor's state_dict"), e.getMessage());
        e = assertThrows(BadInputException.class, () ->
                HatPredictorWeights.read("hello".getBytes(), "text.pt"));
        assertTrue(e.getMessage().startsWith("text.pt: not a PyTorch checkpoint"), e.getMessage());
    }

    @Test
    void publishedLatencyNormsByFileName() {
        assertEquals(300.0, HatPredictorWeights.publishedLatNorm("wmt14ende_cpu_xeon.pt"));
        assertEquals(5000.0, HatPredictorWeights.publishedLatNorm("wmt14ende_cpu_raspberrypi.pt"));
        assertEquals(200.0, HatPredictorWeights.publishedLatNorm("iwslt14deen_gpu_titanxp.pt"));
        assertNull(HatPredictorWeights.publishedLatNorm("mine.pt"));
        assertEquals(10, HatPredictorWeights.FEATURE_NORM.size());
        assertEquals(Arrays.asList(640.0, 6.0), HatPredictorWeights.FEATURE_NORM.subList(0, 2));
    }
}
