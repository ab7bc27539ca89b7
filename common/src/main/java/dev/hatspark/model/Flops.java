package dev.hatspark.model;

import dev.hatspark.space.ArchConfig;

/**
 * Multiply-add FLOPs (2 per MAC) of one SubTransformer forward on a batch, as this implementation
 * computes it (full attention matrices, output projection included). Used to report GFLOP/s and, by
 * the search, to balance partitions by estimated cost.
 */
public final class Flops {
    private Flops() {
    }

    public static double forward(ArchConfig c, int qkv, int vocab, long batch, long srcLen, long tgtLen) {
        double e = c.encoderEmbedDim();
        double d = c.decoderEmbedDim();
        double src = batch * srcLen;
        double tgt = batch * tgtLen;
        double f = 0;
        for (int i = 0; i < c.encoderLayerNum(); i++) {
            f += src * (4 * 2 * e * qkv + 2 * 2 * srcLen * qkv + 2 * 2 * e * c.encoderFfnEmbedDim(i));
        }
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            int k = c.decoderArbitraryEndeAttn(i);
            f += tgt * (4 * 2 * d * qkv + 2 * 2 * tgtLen * qkv);                 // self-attention
            f += tgt * (2 * 2 * d * qkv + 2 * 2 * k * srcLen * qkv);             // cross: q, o, scores
            f += k * src * 2 * 2 * e * qkv;                                      // cross: k, v of k layers
            f += tgt * 2 * 2 * d * c.decoderFfnEmbedDim(i);
        }
        return f + tgt * 2 * d * vocab;
    }

    /** FLOPs of the same forward over every batch. */
    public static double forward(ArchConfig c, int qkv, int vocab, Iterable<Batch> batches) {
        double f = 0;
        for (Batch b : batches) {
            f += forward(c, qkv, vocab, b.size, b.srcLen, b.tgtLen);
        }
        return f;
    }

    /** Encoder FLOPs of one sentence of {@code srcLen} tokens (the latency protocol's encoder part). */
    public static double encoder(ArchConfig c, int qkv, long srcLen) {
        double e = c.encoderEmbedDim();
        double f = 0;
        for (int i = 0; i < c.encoderLayerNum(); i++) {
            f += srcLen * (4 * 2 * e * qkv + 2 * 2 * srcLen * qkv + 2 * 2 * e * c.encoderFfnEmbedDim(i));
        }
        return f;
    }

    /**
     * Decoder FLOPs of incremental beam search: {@code steps} steps of {@code beam} hypotheses with
     * cached keys/values, encoder-attention keys/values projected once, output projection included.
     */
    public static double incrementalDecoder(ArchConfig c, int qkv, int vocab, long srcLen, int beam, int steps) {
        double d = c.decoderEmbedDim();
        double e = c.encoderEmbedDim();
        double f = 0;
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            int k = c.decoderArbitraryEndeAttn(i);
            f += beam * k * srcLen * 2 * 2 * e * qkv;                                 // cross k, v once
            for (int t = 1; t <= steps; t++) {
                f += beam * (4 * 2 * d * qkv + 2 * 2 * t * qkv                        // self-attention
                        + 2 * 2 * d * qkv + 2 * 2 * k * srcLen * qkv                    // cross q, o, scores
                        + 2 * 2 * d * c.decoderFfnEmbedDim(i));
            }
        }
        return f + (double) steps * beam * 2 * d * vocab;
    }
}
