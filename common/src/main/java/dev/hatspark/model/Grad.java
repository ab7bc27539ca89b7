package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/** PyTorch autograd switches DJL does not expose in its engine-neutral API. */
final class Grad {
    private Grad() {
    }

    /** Whether a backward pass has produced a gradient tensor for {@code p}. */
    static boolean has(NDArray p) {
        try (NDArray g = p.getGradient()) {
            return g != null && g.getShape().size() > 0 && !g.isEmpty();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Runs {@code work} with autograd recording off on this thread (grad mode is thread-local in
     * PyTorch), so inference builds no graph and holds no activations.
     */
    static <T> T disabled(Supplier<T> work) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return work.get();
        } finally {
            JniUtils.setGradMode(before);
        }
    }

}
