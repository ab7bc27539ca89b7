package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Tensor-by-number arithmetic that is safe under autograd. DJL's {@code x.mul(number)} wraps the
 * number in a tensor over a Java direct buffer and closes it on return, but PyTorch's autograd keeps
 * that tensor for the backward pass: once the garbage collector has freed the buffer, the backward
 * reads freed memory and scales gradients by garbage (the non-finite and run-to-run-different training
 * steps of issue 18). Here the number lives in memory PyTorch allocates and frees itself.
 * Same float arithmetic as DJL's, so results are bit-identical to it when nothing is freed.
 */
final class Scalar {
    private Scalar() {
    }

    static NDArray mul(NDArray x, float v) {
        try (NDArray s = x.getManager().full(new Shape(), v, x.getDataType())) {
            return x.mul(s);
        }
    }

    static NDArray div(NDArray x, float v) {
        try (NDArray s = x.getManager().full(new Shape(), v, x.getDataType())) {
            return x.div(s);
        }
    }
}
