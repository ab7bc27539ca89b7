package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/** PyTorch autograd switches DJL does not expose in its engine-neutral API. */
final class Grad {
    private Grad() {
    }

    /**
     * Whether {@code p} takes part in training: it records gradients and has a non-empty gradient
     * tensor (DJL hands out zeros before the first backward pass). Failures are not swallowed: a
     * parameter that cannot report its gradient is a bug, not a parameter to skip.
     */
    static boolean has(NDArray p) {
        if (!p.hasGradient()) {
            return false;
        }
        try (NDArray g = p.getGradient()) {
            return g != null && g.getShape().size() > 0 && !g.isEmpty();
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
