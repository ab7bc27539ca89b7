package dev.hatspark.space;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ArchConfigTest {
    static final DesignSpace DEMO = DesignSpace.builtin("demo");
    static final DesignSpace WMT = DesignSpace.builtin("hat-wmt14");

    static final String SAMPLE = "{\"decoder_arbitrary_ende_attn\":[1,2],\"encoder_embed_dim\":192,\"encoder_layer_num\":2,"
            + "\"encoder_ffn_embed_dim\":[256,512],\"encoder_self_attention_heads\":[2,4],\"decoder_embed_dim\":128,"
            + "\"decoder_layer_num\":2,\"decoder_ffn_embed_dim\":[768,256],\"decoder_self_attention_heads\":[4,2],"
            + "\"decoder_ende_attention_heads\":[2,2]}";

    @Test
    void canonicalJsonHasFixedKeyOrderAndRoundTrips() {
        ArchConfig c = ArchConfig.fromJson(SAMPLE).validate(DEMO);
        assertTrue(c.toJson().startsWith("{\"encoder_embed_dim\":192,\"encoder_layer_num\":2,"), c.toJson());
        assertEquals(c, ArchConfig.fromJson(c.toJson()));
        assertEquals(c.hash(), ArchConfig.fromJson(c.toJson()).hash());
        assertEquals(16, c.hash().length());
    }

    @Test
    void hashIgnoresInactiveLayersButNotActiveOnes() {
        // HAT genes carry max-depth lists; entries past the layer number do not change the architecture
        String padded = SAMPLE.replace("\"encoder_ffn_embed_dim\":[256,512]", "\"encoder_ffn_embed_dim\":[256,512,768,768]")
                .replace("\"encoder_self_attention_heads\":[2,4]", "\"encoder_self_attention_heads\":[2,4,4,2]");
        assertEquals(ArchConfig.fromJson(SAMPLE).hash(), ArchConfig.fromJson(padded).hash());
        String changed = SAMPLE.replace("\"decoder_ffn_embed_dim\":[768,256]", "\"decoder_ffn_embed_dim\":[768,512]");
        assertNotEquals(ArchConfig.fromJson(SAMPLE).hash(), ArchConfig.fromJson(changed).hash());
    }

    @Test
    void configOutsideTheSpaceIsRejectedNamingTheField() {
        String bad = SAMPLE.replace("\"decoder_ffn_embed_dim\":[768,256]", "\"decoder_ffn_embed_dim\":[768,300]");
        var e = assertThrows(IllegalArgumentException.class, () -> ArchConfig.fromJson(bad).validate(DEMO));
        assertTrue(e.getMessage().contains("decoder_ffn_embed_dim[1]") && e.getMessage().contains("300"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> ArchConfig.fromJson(SAMPLE).validate(WMT));
        assertTrue(e2.getMessage().contains("encoder_embed_dim"), e2.getMessage());
        String tooDeep = SAMPLE.replace("\"decoder_arbitrary_ende_attn\":[1,2]", "\"decoder_arbitrary_ende_attn\":[1,3]");
        var e3 = assertThrows(IllegalArgumentException.class, () -> ArchConfig.fromJson(tooDeep).validate(DEMO));
        assertTrue(e3.getMessage().contains("decoder_arbitrary_ende_attn[1]"), e3.getMessage());
    }

    @Test
    void malformedJsonNamesTheField() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ArchConfig.fromJson(SAMPLE.replace("\"encoder_embed_dim\":192", "\"encoder_embed_dim\":\"big\"")));
        assertTrue(e.getMessage().contains("encoder_embed_dim"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> ArchConfig.fromJson(SAMPLE.replace("\"decoder_layer_num\":2", "\"decoder_layer_num\":3")));
        assertTrue(e2.getMessage().contains("decoder_ffn_embed_dim"), e2.getMessage());
    }

    @Test
    void largestAndSmallestAreValidExtremes() {
        for (DesignSpace s : new DesignSpace[] {DEMO, WMT}) {
            ArchConfig big = s.largest().validate(s);
            ArchConfig small = s.smallest().validate(s);
            assertEquals(s.maxDecoderLayers(), big.decoderLayerNum());
            assertEquals(s.maxEncoderFfn(), big.encoderFfnEmbedDim(0));
            assertTrue(small.decoderEmbedDim() <= big.decoderEmbedDim());
            assertNotEquals(big.hash(), small.hash());
        }
        assertEquals(640, WMT.largest().encoderEmbedDim());
        assertEquals(1, WMT.smallest().decoderLayerNum());
    }
}
