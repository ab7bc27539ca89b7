package dev.hatspark.space;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** A config unrolled into one row per layer, encoder first: what a drawing of the architecture shows. */
public final class Layers {
    private Layers() {
    }

    /**
     * One layer. {@code crossHeads} and {@code attendsTo} (1-based encoder layers whose outputs this
     * decoder layer attends to) are set for decoder layers only.
     */
    public record Layer(String stack, int index, int embedDim, int ffnDim, int selfHeads, Integer crossHeads,
                        List<Integer> attendsTo) {
    }

    public static List<Layer> of(ArchConfig c) {
        List<Layer> rows = new ArrayList<>();
        int enc = c.encoderLayerNum();
        for (int l = 0; l < enc; l++) {
            rows.add(new Layer("encoder", l + 1, c.encoderEmbedDim(), c.encoderFfnEmbedDim(l),
                    c.encoderSelfAttentionHeads(l), null, List.of()));
        }
        for (int l = 0; l < c.decoderLayerNum(); l++) {
            // HAT's arbitrary encoder-decoder attention: the last k encoder layers (all of them if k exceeds the count)
            int k = Math.min(c.decoderArbitraryEndeAttn(l), enc);
            rows.add(new Layer("decoder", l + 1, c.decoderEmbedDim(), c.decoderFfnEmbedDim(l),
                    c.decoderSelfAttentionHeads(l), c.decoderEndeAttentionHeads(l),
                    IntStream.rangeClosed(enc - k + 1, enc).boxed().toList()));
        }
        return rows;
    }
}
