package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import dev.hatspark.space.ArchConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Step-by-step decoding of one SubTransformer with cached keys/values, as inference runs (and as
 * HAT times it): each step feeds one token per hypothesis; self-attention keys/values grow by one
 * position per step; encoder-attention keys/values are projected once from the last k encoder layers.
 * Not thread-safe: one instance per decoding.
 */
public final class IncrementalDecoder {
    private final SuperTransformer m;
    private final ArchConfig c;
    private final List<NDArray> selfK = new ArrayList<>();
    private final List<NDArray> selfV = new ArrayList<>();
    private final List<NDArray> crossK = new ArrayList<>();
    private final List<NDArray> crossV = new ArrayList<>();
    private final List<NDArray> crossMask = new ArrayList<>();
    private int position;

    /**
     * @param encoderStates outputs of the active encoder layers, {@code [N, S, E]} each, already
     *                      expanded to one row per hypothesis
     * @param srcMask       additive padding mask {@code [N, 1, 1, S]}
     */
    public IncrementalDecoder(SuperTransformer m, ArchConfig c, List<NDArray> encoderStates, NDArray srcMask) {
        this.m = m;
        this.c = c;
        int e = c.encoderEmbedDim();
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            int k = c.decoderArbitraryEndeAttn(i);
            NDArray memory = SuperTransformer.lastLayers(encoderStates, k);
            String p = "dec." + i + ".cross.";
            crossK.add(m.heads(memory, p + "k", e, c.decoderEndeAttentionHeads(i)));
            crossV.add(m.heads(memory, p + "v", e, c.decoderEndeAttentionHeads(i)));
            crossMask.add(SuperTransformer.memoryMask(srcMask, k));
            selfK.add(null);
            selfV.add(null);
        }
    }

    /**
     * Feeds one token per row ({@code [N]} int64) and returns next-token log-probabilities {@code [N, V]}.
     * The same sublayers as the teacher-forced forward (pre- or post-norm by the space's arrangement),
     * with the position of step t being t (prenorm) or t + 2 (HAT).
     */
    public NDArray step(NDArray tokens) {
        int d = c.decoderEmbedDim();
        long n = tokens.getShape().get(0);
        NDArray x = m.embedStep(tokens.reshape(n, 1), d, position);
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            String p = "dec." + i + ".";
            int layer = i;
            int h = c.decoderSelfAttentionHeads(i);
            int endeHeads = c.decoderEndeAttentionHeads(i);
            int f = c.decoderFfnEmbedDim(i);
            x = m.sublayer(x, p + "ln1.", d, 0f, y -> {
                NDArray k = m.heads(y, p + "self.k", d, h);
                NDArray v = m.heads(y, p + "self.v", d, h);
                selfK.set(layer, selfK.get(layer) == null ? k : NDArrays.concat(new NDList(selfK.get(layer), k), 2));
                selfV.set(layer, selfV.get(layer) == null ? v : NDArrays.concat(new NDList(selfV.get(layer), v), 2));
                return m.attend(m.heads(y, p + "self.q", d, h), selfK.get(layer), selfV.get(layer), null, p + "self.", d);
            });
            x = m.sublayer(x, p + "ln2.", d, 0f, y -> m.attend(m.heads(y, p + "cross.q", d, endeHeads),
                    crossK.get(layer), crossV.get(layer), crossMask.get(layer), p + "cross.", d));
            x = m.sublayer(x, p + "ln3.", d, 0f, y -> m.ffn(y, p + "ffn.", d, f, 0f));
        }
        position++;
        return m.outputLogProbs(c, m.finalNorm(x, "dec.ln.", d)).reshape(n, -1);
    }

    /** Keeps the hypotheses in {@code rows} (int64 {@code [N]}), e.g. the beams that survived a step. */
    public void reorder(NDArray rows) {
        NDIndex pick = new NDIndex("{}", rows);
        for (int i = 0; i < selfK.size(); i++) {
            selfK.set(i, selfK.get(i).get(pick));
            selfV.set(i, selfV.get(i).get(pick));
        }
    }
}
