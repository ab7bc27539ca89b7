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
}
