package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.space.ArchConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Beam-search decoding of one source sentence with a SubTransformer (inherited weights, no dropout).
 * In {@code fixedLength} mode it runs exactly {@code maxLen} steps whatever the model predicts, the
 * way HAT measures latency (beam 5, 30 steps); otherwise hypotheses end at EOS and are ranked by
 * {@code score / length^lengthPenalty} (fairseq's convention). {@code <pad>} is never generated.
 */
public final class BeamSearch {
    private final SuperTransformer model;
    private final int beam;
    private final float lengthPenalty;

    public BeamSearch(SuperTransformer model, int beam, float lengthPenalty) {
        this.model = model;
        this.beam = beam;
        this.lengthPenalty = lengthPenalty;
    }

    /** The encoder's output for one sentence, expanded to one row per beam. */
    public final class Encoded {
        final ArchConfig config;
        final List<NDArray> states;
        final NDArray mask;

        Encoded(ArchConfig config, List<NDArray> states, NDArray mask) {
            this.config = config;
            this.states = states;
            this.mask = mask;
        }
    }

    /** Runs the encoder on {@code src} (ids without EOS; EOS is appended as in training). */
    public Encoded encode(ArchConfig c, int[] src) {
        NDManager mm = model.manager();
        long[] ids = new long[src.length + 1];
        for (int i = 0; i < src.length; i++) {
            ids[i] = src[i];
        }
        ids[src.length] = Vocab.EOS;
        NDArray x = mm.create(ids, new Shape(1, ids.length));
        NDArray mask = model.paddingMask(x);
        List<NDArray> states = new ArrayList<>();
        for (NDArray s : model.encode(c, x, mask, false)) {
            states.add(s.repeat(0, beam));
        }
        states.get(states.size() - 1).toFloatArray(); // completes the encoder's work before a timer stops
        return new Encoded(c, states, mask.repeat(0, beam));
    }

    /** Decodes from {@link Vocab#DECODER_START}; returns the best hypothesis' token ids without the start token and EOS. */
    public int[] decode(Encoded enc, int maxLen, boolean fixedLength) {
        NDManager mm = model.manager();
        IncrementalDecoder dec = new IncrementalDecoder(model, enc.config, enc.states, enc.mask);
        List<int[]> hyps = new ArrayList<>();
        for (int b = 0; b < beam; b++) {
            hyps.add(new int[0]);
        }
        float[] scores = new float[beam];
        java.util.Arrays.fill(scores, 1, beam, Float.NEGATIVE_INFINITY); // all beams start identical: expand one
        long[] tokens = new long[beam];
        java.util.Arrays.fill(tokens, Vocab.DECODER_START);
        int[] best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int step = 0; step < maxLen; step++) {
            NDArray lp = dec.step(mm.create(tokens));
            // never extend with <pad>, as fairseq's generator: a pad inside a prefix would shift HAT's positions
            lp.set(new NDIndex(":, {}", Vocab.PAD), Float.NEGATIVE_INFINITY);
            int vocab = (int) lp.getShape().get(1);
            NDArray total = lp.add(mm.create(scores).reshape(beam, 1)).reshape(-1);
            NDList top = total.topK(Math.min(2 * beam, beam * vocab), 0, true, true);
            float[] topScore = top.get(0).toFloatArray();
            long[] topIndex = top.get(1).toLongArray();
            long[] origin = new long[beam];
            float[] nextScores = new float[beam];
            long[] nextTokens = new long[beam];
            List<int[]> nextHyps = new ArrayList<>();
            int kept = 0;
            for (int i = 0; i < topIndex.length && kept < beam; i++) {
                int from = (int) (topIndex[i] / vocab);
                int token = (int) (topIndex[i] % vocab);
                if (!fixedLength && token == Vocab.EOS) {
                    double norm = topScore[i] / Math.pow(hyps.get(from).length + 1, lengthPenalty);
                    if (norm > bestScore) {
                        bestScore = norm;
                        best = hyps.get(from);
                    }
                    continue;
                }
                origin[kept] = from;
                nextScores[kept] = topScore[i];
                nextTokens[kept] = token;
                int[] h = java.util.Arrays.copyOf(hyps.get(from), hyps.get(from).length + 1);
                h[h.length - 1] = token;
                nextHyps.add(h);
                kept++;
            }
            dec.reorder(mm.create(origin));
            scores = nextScores;
            tokens = nextTokens;
            hyps = nextHyps;
            // an active hypothesis can only lose score; stop once none can beat the best finished one
            if (!fixedLength && best != null && scores[0] / Math.pow(maxLen, lengthPenalty) < bestScore) {
                break;
            }
        }
        if (best == null || fixedLength) {
            return hyps.get(0);
        }
        double activeNorm = scores[0] / Math.pow(Math.max(1, hyps.get(0).length), lengthPenalty);
        return activeNorm > bestScore ? hyps.get(0) : best;
    }

    /** {@link #encode} with autograd off (for timing: no graph is recorded). */
    public Encoded encodeNoGrad(ArchConfig c, int[] src) {
        return Grad.disabled(() -> encode(c, src));
    }

    /** Exactly {@code steps} decoder steps, autograd off: HAT's fixed-length latency decoding. */
    public int[] decodeNoGrad(Encoded enc, int steps) {
        return Grad.disabled(() -> decode(enc, steps, true));
    }

    /** Translates one sentence: encode + decode with EOS, at most {@code maxLen} tokens. */
    public int[] translate(ArchConfig c, int[] src, int maxLen) {
        return Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                return decode(encode(c, src), maxLen, false);
            }
        });
    }
}
