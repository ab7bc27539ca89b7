package dev.hatspark.space;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LayersTest {
    @Test
    void oneRowPerLayerWithTheEncoderLayersEachDecoderLayerAttendsTo() {
        ArchConfig c = ArchConfig.fromJson("{\"encoder_embed_dim\":192,\"encoder_layer_num\":3,"
                + "\"encoder_ffn_embed_dim\":[256,512,768],\"encoder_self_attention_heads\":[2,4,2],"
                + "\"decoder_embed_dim\":128,\"decoder_layer_num\":2,\"decoder_ffn_embed_dim\":[768,256],"
                + "\"decoder_self_attention_heads\":[4,2],\"decoder_ende_attention_heads\":[2,4],"
                + "\"decoder_arbitrary_ende_attn\":[1,3]}");
        List<Layers.Layer> rows = Layers.of(c);
        assertEquals(List.of("encoder", "encoder", "encoder", "decoder", "decoder"),
                rows.stream().map(Layers.Layer::stack).toList());
        assertEquals(new Layers.Layer("encoder", 2, 192, 512, 4, null, List.of()), rows.get(1));
        assertEquals(new Layers.Layer("decoder", 1, 128, 768, 4, 2, List.of(3)), rows.get(3));
        assertEquals(new Layers.Layer("decoder", 2, 128, 256, 2, 4, List.of(1, 2, 3)), rows.get(4));
    }
}
