package dev.hatspark.torch;

import java.util.Arrays;

/**
 * A tensor of a PyTorch checkpoint: a shape and a strided view into a {@link TorchStorage}.
 * {@link #dtype()} is the type in the file; {@link #floats()} gives float32 for every floating type
 * (float16/bfloat16 widened when read), {@link #longs()} the values of an int64 tensor.
 */
public final class TorchTensor {
    private final TorchStorage storage;
    private final long offset;
    private final long[] shape;
    private final long[] stride;
    private final int numel;

    private TorchTensor(TorchStorage storage, long offset, long[] shape, long[] stride, int numel) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.stride = stride;
        this.numel = numel;
    }

    /** The view {@code _rebuild_tensor_v2} describes; the bounds are checked now, the data may come later. */
    static TorchTensor view(TorchStorage storage, long offset, long[] shape, long[] stride, String source) {
        if (shape.length != stride.length) {
            throw TorchCheckpoint.badInput(source, "tensor on storage " + storage.key + " has size "
                    + Arrays.toString(shape) + " but stride " + Arrays.toString(stride));
        }
        long numel = 1;
        long last = offset; // the highest element index the view touches
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0 || stride[d] < 0) {
                throw TorchCheckpoint.badInput(source, "tensor on storage " + storage.key + " has negative size or stride");
            }
            numel = Math.multiplyExact(numel, shape[d]);
            last += (shape[d] - 1) * stride[d];
        }
        if (numel > Integer.MAX_VALUE - 8) { // possible with stride 0 (an expanded tensor); Java arrays are int-indexed
            throw TorchCheckpoint.badInput(source, "tensor " + Arrays.toString(shape) + " has too many elements");
        }
        if (offset < 0 || numel > 0 && last >= storage.numel) {
            throw TorchCheckpoint.badInput(source, "tensor " + Arrays.toString(shape) + " at offset " + offset
                    + " with stride " + Arrays.toString(stride) + " does not fit in storage " + storage.key
                    + " of " + storage.numel + " elements");
        }
        return new TorchTensor(storage, offset, shape.clone(), stride.clone(), (int) numel);
    }

    public long[] shape() {
        return shape.clone();
    }

    /** {@code float32}, {@code float16}, {@code bfloat16} or {@code int64}, as stored in the file. */
    public String dtype() {
        return storage.dtype.label;
    }

    public int numel() {
        return numel;
    }

    /**
     * The elements in row-major order as float32. A tensor that spans its whole storage returns the
     * storage's array itself, shared with any tensor on the same storage (tied embeddings): treat it
     * as read-only. Other views are copied.
     */
    public float[] floats() {
        if (!storage.dtype.isFloat()) {
            throw new IllegalStateException("an " + dtype() + " tensor: use longs()");
        }
        float[] data = storage.floats();
        if (spansStorage()) {
            return data;
        }
        float[] out = new float[numel];
        if (isContiguous()) {
            System.arraycopy(data, (int) offset, out, 0, numel);
        } else {
            forEachElement((to, from) -> out[to] = data[from]);
        }
        return out;
    }

    /** The elements of an int64 tensor in row-major order; shared like {@link #floats()}. */
    public long[] longs() {
        if (storage.dtype != Dtype.INT64) {
            throw new IllegalStateException("a " + dtype() + " tensor: use floats()");
        }
        long[] data = storage.longs();
        if (spansStorage()) {
            return data;
        }
        long[] out = new long[numel];
        if (isContiguous()) {
            System.arraycopy(data, (int) offset, out, 0, numel);
        } else {
            forEachElement((to, from) -> out[to] = data[from]);
        }
        return out;
    }

    private boolean spansStorage() {
        return offset == 0 && numel == storage.numel && isContiguous();
    }

    /** Row-major strides (dimensions of size 1 may carry any stride, as torch allows). */
    private boolean isContiguous() {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    private interface Copy {
        void copy(int to, int from);
    }

    /** Walks the view in row-major order like an odometer, for general strides. */
    private void forEachElement(Copy copy) {
        long[] index = new long[shape.length];
        long from = offset;
        for (int to = 0; to < numel; to++) {
            copy.copy(to, (int) from);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    from += stride[d];
                    break;
                }
                from -= (shape[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
    }

    @Override
    public String toString() {
        return "TorchTensor[" + dtype() + " " + Arrays.toString(shape) + "]";
    }
}
