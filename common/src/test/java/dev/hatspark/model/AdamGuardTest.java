package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamGuardTest {
    @Test
    void anUpdateWithANonFiniteGradientChangesNothingAndClearsTheGradients() {
        try (NDManager m = NDManager.newBaseManager(); Adam adam = Adam.hat(m)) {
            NDArray a = m.create(new float[] {1, 2, 3});
            NDArray b = m.create(new float[] {4, 5});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>(Map.of("a", a, "b", b));
            backward(() -> a.mul(a).sum().add(b.sum()));
            assertTrue(adam.stepIfFinite(params, 0.1f), "finite gradients: a normal update");
            float[] afterFirst = a.toFloatArray();
            assertFalse(afterFirst[0] == 1f);

            // b's gradient overflows (d/db of b * inf), a's is fine: nothing may move
            backward(() -> a.mul(a).sum().add(b.mul(Float.POSITIVE_INFINITY).sum()));
            float[] bBefore = b.toFloatArray();
            assertFalse(adam.stepIfFinite(params, 0.1f));
            assertArrayEquals(afterFirst, a.toFloatArray(), "a unchanged by the skipped update");
            assertArrayEquals(bBefore, b.toFloatArray(), "b unchanged");
            assertEquals(0f, a.getGradient().abs().sum().getFloat(), "gradients cleared");
            assertEquals(0f, b.getGradient().abs().sum().getFloat(), "an infinite gradient cleared too");

            // and training goes on exactly as if the bad step had not happened: the moments were not touched
            try (NDManager m2 = NDManager.newBaseManager(); Adam twin = Adam.hat(m2)) {
                NDArray a2 = m2.create(new float[] {1, 2, 3});
                NDArray b2 = m2.create(new float[] {4, 5});
                a2.setRequiresGradient(true);
                b2.setRequiresGradient(true);
                Map<String, NDArray> p2 = new LinkedHashMap<>(Map.of("a", a2, "b", b2));
                for (int i = 0; i < 2; i++) {
                    backward(() -> a2.mul(a2).sum().add(b2.sum()));
                    twin.step(p2, 0.1f);
                }
                backward(() -> a.mul(a).sum().add(b.sum()));
                adam.step(params, 0.1f);
                assertArrayEquals(a2.toFloatArray(), a.toFloatArray(), 1e-7f);
                assertArrayEquals(b2.toFloatArray(), b.toFloatArray(), 1e-7f);
            }
        }
    }

    /** The loss must be computed while the collector records. */
    private static void backward(java.util.function.Supplier<NDArray> loss) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(loss.get());
        }
    }
}
