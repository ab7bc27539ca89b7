package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.hatspark.corpus.Vocab;

import java.util.List;

/**
 * A padded batch of sentence pairs. The source gets EOS appended; the decoder reads
 * {@link Vocab#DECODER_START} (= EOS, as fairseq) + target and predicts target + EOS (teacher forcing).
 *
 * <p>Ids are {@link Vocab#PAD}-padded on the right, sources included, although HAT (fairseq) left-pads
 * sources. For real tokens both give the same numbers: padded source keys are masked everywhere, and the
 * HAT arrangement counts positions from the first non-pad token (fairseq's make_positions), so a real
 * token sees the same inputs wherever the padding sits. HatOracleTest checks this on HAT's own batch.
 */
public final class Batch {
    public final long[] src;     // [size, srcLen]
    public final long[] tgtIn;   // [size, tgtLen]
    public final long[] tgtOut;  // [size, tgtLen]
    public final int size;
    public final int srcLen;
    public final int tgtLen;
    public final int targetTokens;

    public Batch(List<int[][]> pairs) {
        size = pairs.size();
        int s = 1;
        int t = 1;
        for (int[][] p : pairs) {
            s = Math.max(s, p[0].length + 1);
            t = Math.max(t, p[1].length + 1);
        }
        srcLen = s;
        tgtLen = t;
        src = new long[size * s];
        tgtIn = new long[size * t];
        tgtOut = new long[size * t];
        java.util.Arrays.fill(src, Vocab.PAD); // PAD is 1 (fairseq), not Java's default 0
        java.util.Arrays.fill(tgtIn, Vocab.PAD);
        java.util.Arrays.fill(tgtOut, Vocab.PAD);
        int tokens = 0;
        for (int b = 0; b < size; b++) {
            int[] x = pairs.get(b)[0];
            int[] y = pairs.get(b)[1];
            for (int i = 0; i < x.length; i++) {
                src[b * s + i] = x[i];
            }
            src[b * s + x.length] = Vocab.EOS;
            tgtIn[b * t] = Vocab.DECODER_START;
            for (int i = 0; i < y.length; i++) {
                tgtIn[b * t + i + 1] = y[i];
                tgtOut[b * t + i] = y[i];
            }
            tgtOut[b * t + y.length] = Vocab.EOS;
            tokens += y.length + 1;
        }
        targetTokens = tokens;
    }

    NDArray src(NDManager m) {
        return m.create(src, new Shape(size, srcLen));
    }

    NDArray tgtIn(NDManager m) {
        return m.create(tgtIn, new Shape(size, tgtLen));
    }

    NDArray tgtOut(NDManager m) {
        return m.create(tgtOut, new Shape(size, tgtLen));
    }
}
