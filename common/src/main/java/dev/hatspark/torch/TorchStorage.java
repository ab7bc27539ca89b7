package dev.hatspark.torch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One torch storage: a flat run of elements that tensors view. The pickle names it (key, dtype,
 * element count) before its bytes arrive, so it starts empty and {@link #fill} decodes the bytes
 * later, straight into the one array that every tensor on it shares.
 */
final class TorchStorage {
    private static final int CHUNK = 1 << 16; // a multiple of every element size

    final String key;
    final Dtype dtype;
    final int numel;
    private float[] floats;
    private long[] longs;

    TorchStorage(String key, Dtype dtype, int numel) {
        this.key = key;
        this.dtype = dtype;
        this.numel = numel;
    }

    long nbytes() {
        return (long) numel * dtype.size;
    }

    boolean filled() {
        return floats != null || longs != null;
    }

    float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("storage " + key + " is " + (filled() ? dtype : "not read yet"));
        }
        return floats;
    }

    long[] longs() {
        if (longs == null) {
            throw new IllegalStateException("storage " + key + " is " + (filled() ? dtype : "not read yet"));
        }
        return longs;
    }

    /** Reads exactly {@link #nbytes()} little-endian bytes; fewer means the file was cut short. */
    void fill(InputStream in, String source) throws IOException {
        float[] f = dtype.isFloat() ? new float[numel] : null;
        long[] l = dtype.isFloat() ? null : new long[numel];
        byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(nbytes(), 1))];
        int done = 0; // elements decoded
        while (done < numel) {
            int count = (int) Math.min(chunk.length / dtype.size, numel - done);
            readFully(in, chunk, count * dtype.size, source, done);
            decode(chunk, count, f, l, done);
            done += count;
        }
        floats = f;
        longs = l;
    }

    private void readFully(InputStream in, byte[] buf, int len, String source, int elementsDone) throws IOException {
        int got = 0;
        while (got < len) {
            int n = in.read(buf, got, len - got);
            if (n < 0) {
                long have = (long) elementsDone * dtype.size + got;
                throw TorchCheckpoint.badInput(source, "truncated: storage " + key + " (" + dtype.label + ", "
                        + numel + " elements) expected " + nbytes() + " bytes of data, the input ended after " + have);
            }
            got += n;
        }
    }

    private void decode(byte[] buf, int count, float[] f, long[] l, int at) {
        ByteBuffer bytes = ByteBuffer.wrap(buf, 0, count * dtype.size).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case FLOAT32 -> bytes.asFloatBuffer().get(f, at, count);
            case INT64 -> bytes.asLongBuffer().get(l, at, count);
            case FLOAT16 -> {
                for (int i = 0; i < count; i++) {
                    f[at + i] = halfToFloat(bytes.getShort(2 * i));
                }
            }
            case BFLOAT16 -> {
                for (int i = 0; i < count; i++) {
                    f[at + i] = Float.intBitsToFloat((bytes.getShort(2 * i) & 0xffff) << 16);
                }
            }
        }
    }

    /** IEEE binary16 to float32, exact (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) { // infinity or NaN: keep the payload
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
    }
}
