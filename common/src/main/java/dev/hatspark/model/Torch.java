package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/** PyTorch thread settings (global per JVM), applied after the engine's natives are loaded. */
public final class Torch {
    private Torch() {
    }

    /**
     * Sets intra-op threads; inter-op threads too when PyTorch still allows it (only before the first
     * parallel op of the process).
     */
    public static void threads(int intraOp, int interOp) {
        // DJL reads this when it starts PyTorch, the one moment inter-op threads can still be set
        System.getProperties().putIfAbsent("ai.djl.pytorch.num_interop_threads", String.valueOf(Math.max(1, interOp)));
        Engine.getInstance();
        JniUtils.setNumThreads(intraOp);
        if (interOp > 0 && JniUtils.getNumInteropThreads() != interOp) {
            try {
                JniUtils.setNumInteropThreads(interOp);
            } catch (RuntimeException e) {
                // already fixed by earlier work in this JVM; intra-op threads are what matters for timing
            }
        }
    }

    /** Whether every element of {@code a} is finite (no NaN, no infinity). */
    public static boolean allFinite(ai.djl.ndarray.NDArray a) {
        try (ai.djl.ndarray.NDArray bad = a.isNaN().logicalOr(a.isInfinite()).any()) {
            return !bad.getBoolean();
        }
    }

    public static int threads() {
        Engine.getInstance();
        return JniUtils.getNumThreads();
    }
}
