package dev.hatspark.latency;

import dev.hatspark.model.Flops;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;

import java.util.ArrayList;
import java.util.List;

/**
 * Latency-predictor features of a config.
 *
 * <p>{@link #HAT10}: HAT's 10 aggregated features, named as in HAT's published CSVs. {@link #rich}:
 * those 10, then per-layer values (decoder FFN, self heads, encoder-attention heads, attended
 * encoder layers; encoder FFN and heads; 0 for absent layers), then the FLOPs of the latency
 * protocol's encoder and decoder work in GFLOP, which make the cost model nearly linear.
 */
public final class Features {
    public static final List<String> HAT10 = List.of("encoder_embed_dim", "encoder_layer_num",
            "encoder_ffn_embed_dim_avg", "encoder_self_attention_heads_avg", "decoder_embed_dim", "decoder_layer_num",
            "decoder_ffn_embed_dim_avg", "decoder_self_attention_heads_avg", "decoder_ende_attention_heads_avg",
            "decoder_arbitrary_ende_attn_avg");

    private Features() {
    }

    public static double[] hat10(ArchConfig c) {
        int el = c.encoderLayerNum();
        int dl = c.decoderLayerNum();
        double ef = 0, eh = 0, df = 0, dh = 0, dx = 0, da = 0;
        for (int i = 0; i < el; i++) {
            ef += c.encoderFfnEmbedDim(i);
            eh += c.encoderSelfAttentionHeads(i);
        }
        for (int i = 0; i < dl; i++) {
            df += c.decoderFfnEmbedDim(i);
            dh += c.decoderSelfAttentionHeads(i);
            dx += c.decoderEndeAttentionHeads(i);
            da += c.decoderArbitraryEndeAttn(i);
        }
        return new double[] {c.encoderEmbedDim(), el, ef / el, eh / el, c.decoderEmbedDim(), dl, df / dl, dh / dl,
                dx / dl, da / dl};
    }

    /** Names of {@link #rich} for a space (per-layer columns depend on its maximum depths). */
    public static List<String> richNames(DesignSpace s) {
        List<String> n = new ArrayList<>(HAT10);
        for (String g : List.of("decoder_ffn_embed_dim", "decoder_self_attention_heads", "decoder_ende_attention_heads",
                "decoder_arbitrary_ende_attn")) {
            for (int i = 0; i < s.maxDecoderLayers(); i++) {
                n.add(g + "_" + i);
            }
        }
        for (String g : List.of("encoder_ffn_embed_dim", "encoder_self_attention_heads")) {
            for (int i = 0; i < s.maxEncoderLayers(); i++) {
                n.add(g + "_" + i);
            }
        }
        n.add("encoder_gflops");
        n.add("decoder_gflops");
        return n;
    }

    public static double[] rich(ArchConfig c, DesignSpace s, int vocab, LatencyProtocol p) {
        List<Double> v = new ArrayList<>();
        for (double x : hat10(c)) {
            v.add(x);
        }
        int dl = c.decoderLayerNum();
        int el = c.encoderLayerNum();
        for (int g = 0; g < 4; g++) {
            for (int i = 0; i < s.maxDecoderLayers(); i++) {
                v.add(i >= dl ? 0.0 : switch (g) {
                    case 0 -> c.decoderFfnEmbedDim(i);
                    case 1 -> c.decoderSelfAttentionHeads(i);
                    case 2 -> c.decoderEndeAttentionHeads(i);
                    default -> c.decoderArbitraryEndeAttn(i);
                });
            }
        }
        for (int g = 0; g < 2; g++) {
            for (int i = 0; i < s.maxEncoderLayers(); i++) {
                v.add(i >= el ? 0.0 : g == 0 ? c.encoderFfnEmbedDim(i) : c.encoderSelfAttentionHeads(i));
            }
        }
        v.add(Flops.encoder(c, s.qkvDim, p.srcLen()) / 1e9);
        v.add(Flops.incrementalDecoder(c, s.qkvDim, vocab, p.srcLen(), p.beam(), p.steps()) / 1e9);
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
