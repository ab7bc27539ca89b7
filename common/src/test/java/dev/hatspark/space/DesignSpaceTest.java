package dev.hatspark.space;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DesignSpaceTest {
    static final String GOOD = """
            name: t
            qkv_dim: 16
            dropout: 0.1
            encoder: {embed_dim: [8, 16], layer_num: [1, 2], ffn_embed_dim: [16], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [8], layer_num: [1], ffn_embed_dim: [16], self_attention_heads: [2],
                      ende_attention_heads: [2], arbitrary_ende_attn: [1, 2]}
            """;

    @Test
    void spaceOptionIsAnExistingFileOrElseABuiltInName() {
        java.util.Map<String, String> files = java.util.Map.of("my-space", DesignSpace.builtin("demo").yaml()
                .replace("name: demo", "name: mine"));
        DesignSpace file = DesignSpace.resolve("my-space", files::containsKey, files::get);
        assertEquals("mine", file.name, "a file named like a built-in space wins");
        assertEquals("hat-wmt14", DesignSpace.resolve("hat-wmt14", files::containsKey, files::get).name);
        var missing = assertThrows(dev.hatspark.util.BadInputException.class,
                () -> DesignSpace.resolve("conf/none.yaml", files::containsKey, files::get));
        assertTrue(missing.getMessage().contains("conf/none.yaml") && missing.getMessage().contains("does not exist"),
                missing.getMessage());
        assertThrows(dev.hatspark.util.BadInputException.class, () -> DesignSpace.resolve("nosuch", files::containsKey, files::get));
    }

    @Test
    void hatWmt14MatchesThePaper() {
        DesignSpace s = DesignSpace.builtin("hat-wmt14");
        assertArrayEquals(new int[] {640, 512}, s.encoderEmbedDim);
        assertArrayEquals(new int[] {3072, 2048, 1024}, s.decoderFfnEmbedDim);
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6}, s.decoderLayerNum);
        assertArrayEquals(new int[] {6}, s.encoderLayerNum);
        assertEquals(512, s.qkvDim);
    }

    @Test
    void errorsNameTheFileAndField() {
        assertMessage(GOOD.replace("ffn_embed_dim: [16], self", "ffn_embed_dim: [], self"), "t.yaml: field 'encoder.ffn_embed_dim'");
        assertMessage(GOOD.replace("qkv_dim: 16", "qkv_dim: -3"), "t.yaml: field 'qkv_dim'");
        assertMessage(GOOD.replace("name: t\n", ""), "t.yaml: missing field 'name'");
        assertMessage(GOOD.replace("self_attention_heads: [2, 4]", "self_attention_heads: [3]"), "does not divide qkv_dim");
        assertMessage(GOOD.replace("ende_attention_heads: [2]", "ende_attention_heads: [2, 2]"), "lists 2 twice");
        assertMessage("name: [", "t.yaml: not valid YAML");
        assertMessage(GOOD.replace("arbitrary_ende_attn: [1, 2]", "arbitrary_ende_attn: [3]"), "decoder.arbitrary_ende_attn");
    }

    @Test
    void arrangementDefaultsToPrenormAndParsesHat() {
        assertEquals(Arrangement.PRENORM, DesignSpace.parse(GOOD, "t.yaml").arrangement);
        assertEquals(Arrangement.PRENORM, DesignSpace.builtin("demo").arrangement);
        assertEquals(Arrangement.PRENORM, DesignSpace.builtin("hat-wmt14").arrangement);
        assertEquals(Arrangement.HAT, DesignSpace.parse("arrangement: hat\n" + GOOD, "t.yaml").arrangement);
        assertEquals(Arrangement.PRENORM, DesignSpace.parse("arrangement: prenorm\n" + GOOD, "t.yaml").arrangement);
        assertMessage("arrangement: postnorm\n" + GOOD, "t.yaml: field 'arrangement' must be hat or prenorm, got \"postnorm\"");
    }

    @Test
    void unknownBuiltinSaysWhatExists() {
        var e = assertThrows(IllegalArgumentException.class, () -> DesignSpace.builtin("nope"));
        assertTrue(e.getMessage().contains("demo"), e.getMessage());
    }

    private static void assertMessage(String yaml, String expected) {
        var e = assertThrows(IllegalArgumentException.class, () -> DesignSpace.parse(yaml, "t.yaml"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void differencesNameEveryDifferingChoice() {
        DesignSpace hat = DesignSpace.builtin("hat-wmt14");
        DesignSpace demo = DesignSpace.builtin("demo");
        assertEquals(List.of(), hat.differences(DesignSpace.parse(hat.yaml().replace("[640, 512]", "[512, 640]")
                .replace("name: hat-wmt14", "name: other"), "x"), "a", "b"), "order and name do not matter");
        List<String> d = hat.differences(demo, "imported", "supernet");
        assertEquals("qkv_dim: imported 512 vs supernet 128", d.get(0));
        assertEquals("encoder.embed_dim: imported {640, 512} vs supernet {128, 192, 256}", d.get(1));
        assertTrue(d.contains("decoder.layer_num: imported {1, 2, 3, 4, 5, 6} vs supernet {1, 2, 3, 4}"), d.toString());
        assertFalse(d.stream().anyMatch(x -> x.startsWith("decoder.arbitrary_ende_attn")), "both {1, 2, 3}: " + d);
    }
}
