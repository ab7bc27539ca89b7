package dev.hatspark.space;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One SubTransformer architecture (the gene). Per-layer lists hold only the active layers, so the
 * layer numbers are their lengths and two configs that differ only in unused layers are equal:
 * the canonical JSON and {@link #hash()} are the key evaluations are cached by.
 */
public final class ArchConfig implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int encoderEmbedDim;
    private final int[] encoderFfnEmbedDim;
    private final int[] encoderSelfAttentionHeads;
    private final int decoderEmbedDim;
    private final int[] decoderFfnEmbedDim;
    private final int[] decoderSelfAttentionHeads;
    private final int[] decoderEndeAttentionHeads;
    private final int[] decoderArbitraryEndeAttn;

    public ArchConfig(int encoderEmbedDim, int[] encoderFfnEmbedDim, int[] encoderSelfAttentionHeads,
                      int decoderEmbedDim, int[] decoderFfnEmbedDim, int[] decoderSelfAttentionHeads,
                      int[] decoderEndeAttentionHeads, int[] decoderArbitraryEndeAttn) {
        this.encoderEmbedDim = encoderEmbedDim;
        this.encoderFfnEmbedDim = encoderFfnEmbedDim.clone();
        this.encoderSelfAttentionHeads = encoderSelfAttentionHeads.clone();
        this.decoderEmbedDim = decoderEmbedDim;
        this.decoderFfnEmbedDim = decoderFfnEmbedDim.clone();
        this.decoderSelfAttentionHeads = decoderSelfAttentionHeads.clone();
        this.decoderEndeAttentionHeads = decoderEndeAttentionHeads.clone();
        this.decoderArbitraryEndeAttn = decoderArbitraryEndeAttn.clone();
        requireLength("encoder_self_attention_heads", encoderSelfAttentionHeads, encoderFfnEmbedDim.length);
        requireLength("decoder_self_attention_heads", decoderSelfAttentionHeads, decoderFfnEmbedDim.length);
        requireLength("decoder_ende_attention_heads", decoderEndeAttentionHeads, decoderFfnEmbedDim.length);
        requireLength("decoder_arbitrary_ende_attn", decoderArbitraryEndeAttn, decoderFfnEmbedDim.length);
    }

    private static void requireLength(String field, int[] values, int layers) {
        if (values.length != layers) {
            throw new BadInputException("config field '" + field + "' has " + values.length
                    + " entries, expected one per layer (" + layers + ")");
        }
    }

    public int encoderEmbedDim() { return encoderEmbedDim; }
    public int encoderLayerNum() { return encoderFfnEmbedDim.length; }
    public int encoderFfnEmbedDim(int layer) { return encoderFfnEmbedDim[layer]; }
    public int encoderSelfAttentionHeads(int layer) { return encoderSelfAttentionHeads[layer]; }
    public int decoderEmbedDim() { return decoderEmbedDim; }
    public int decoderLayerNum() { return decoderFfnEmbedDim.length; }
    public int decoderFfnEmbedDim(int layer) { return decoderFfnEmbedDim[layer]; }
    public int decoderSelfAttentionHeads(int layer) { return decoderSelfAttentionHeads[layer]; }
    public int decoderEndeAttentionHeads(int layer) { return decoderEndeAttentionHeads[layer]; }
    /** How many of the last encoder layers decoder layer {@code layer} attends to. */
    public int decoderArbitraryEndeAttn(int layer) { return decoderArbitraryEndeAttn[layer]; }

    int[] encoderFfn() { return encoderFfnEmbedDim.clone(); }
    int[] encoderHeads() { return encoderSelfAttentionHeads.clone(); }
    int[] decoderFfn() { return decoderFfnEmbedDim.clone(); }
    int[] decoderSelfHeads() { return decoderSelfAttentionHeads.clone(); }
    int[] decoderEndeHeads() { return decoderEndeAttentionHeads.clone(); }
    int[] decoderArbitrary() { return decoderArbitraryEndeAttn.clone(); }

    /**
     * Checks every gene against the space; the message names the field, the value and the choices.
     * Returns this for chaining.
     */
    public ArchConfig validate(DesignSpace s) {
        return validate(s, null);
    }

    /**
     * {@link #validate} for a config read from HAT yml file {@code source}: the one-line message names
     * the file, HAT's key and HAT's value (-1/1/2 for arbitrary-ende-attn).
     */
    public ArchConfig validateAsHat(DesignSpace s, String source) {
        return validate(s, source);
    }

    private ArchConfig validate(DesignSpace s, String hatSource) {
        Checker c = new Checker(s, hatSource);
        c.check("encoder_embed_dim", encoderEmbedDim, s.encoderEmbedDim);
        c.check("encoder_layer_num", encoderLayerNum(), s.encoderLayerNum);
        c.check("encoder_ffn_embed_dim", encoderFfnEmbedDim, s.encoderFfnEmbedDim);
        c.check("encoder_self_attention_heads", encoderSelfAttentionHeads, s.encoderSelfAttentionHeads);
        c.check("decoder_embed_dim", decoderEmbedDim, s.decoderEmbedDim);
        c.check("decoder_layer_num", decoderLayerNum(), s.decoderLayerNum);
        c.check("decoder_ffn_embed_dim", decoderFfnEmbedDim, s.decoderFfnEmbedDim);
        c.check("decoder_self_attention_heads", decoderSelfAttentionHeads, s.decoderSelfAttentionHeads);
        c.check("decoder_ende_attention_heads", decoderEndeAttentionHeads, s.decoderEndeAttentionHeads);
        c.check("decoder_arbitrary_ende_attn", decoderArbitraryEndeAttn, s.decoderArbitraryEndeAttn);
        for (int i = 0; i < decoderArbitraryEndeAttn.length; i++) {
            if (decoderArbitraryEndeAttn[i] > encoderLayerNum()) {
                throw new BadInputException(c.name("decoder_arbitrary_ende_attn", "[" + i + "]") + "="
                        + c.value("decoder_arbitrary_ende_attn", decoderArbitraryEndeAttn[i]) + " attends to the last "
                        + decoderArbitraryEndeAttn[i] + " encoder layers, but there are "
                        + (c.hatSource() == null ? "encoder_layer_num=" : "encoder-layer-num-subtransformer=") + encoderLayerNum());
            }
        }
        return this;
    }

    /** Names fields and values in our JSON's terms, or in HAT's yml terms when {@code hatSource} is set. */
    private record Checker(DesignSpace s, String hatSource) {
        String name(String field, String index) {
            return hatSource == null ? "config field '" + field + index + "'"
                    : hatSource + ": '" + HAT_KEYS.get(field) + index + "'";
        }

        int value(String field, int v) {
            return hatSource != null && field.equals("decoder_arbitrary_ende_attn") ? arbitraryToHat(v) : v;
        }

        void check(String field, int value, int[] choices) {
            check(field, "", value, choices);
        }

        void check(String field, int[] values, int[] choices) {
            for (int i = 0; i < values.length; i++) {
                check(field, "[" + i + "]", values[i], choices);
            }
        }

        private void check(String field, String index, int value, int[] choices) {
            if (!DesignSpace.contains(choices, value)) {
                throw new BadInputException(name(field, index) + "=" + value(field, value) + " is not in design space '"
                        + s.name + "' (choices " + Arrays.toString(Arrays.stream(choices).map(v -> value(field, v)).toArray())
                        + ")");
            }
        }
    }

    /** HAT's yml key of each of our JSON fields (evo_search.py's --write-config-path names). */
    private static final java.util.Map<String, String> HAT_KEYS = java.util.Map.of(
            "encoder_embed_dim", "encoder-embed-dim-subtransformer",
            "encoder_layer_num", "encoder-layer-num-subtransformer",
            "encoder_ffn_embed_dim", "encoder-ffn-embed-dim-all-subtransformer",
            "encoder_self_attention_heads", "encoder-self-attention-heads-all-subtransformer",
            "decoder_embed_dim", "decoder-embed-dim-subtransformer",
            "decoder_layer_num", "decoder-layer-num-subtransformer",
            "decoder_ffn_embed_dim", "decoder-ffn-embed-dim-all-subtransformer",
            "decoder_self_attention_heads", "decoder-self-attention-heads-all-subtransformer",
            "decoder_ende_attention_heads", "decoder-ende-attention-heads-all-subtransformer",
            "decoder_arbitrary_ende_attn", "decoder-arbitrary-ende-attn-all-subtransformer");

    /** Canonical JSON: fixed key order, no whitespace, active layers only. */
    public String toJson() {
        return "{\"encoder_embed_dim\":" + encoderEmbedDim
                + ",\"encoder_layer_num\":" + encoderLayerNum()
                + ",\"encoder_ffn_embed_dim\":" + list(encoderFfnEmbedDim)
                + ",\"encoder_self_attention_heads\":" + list(encoderSelfAttentionHeads)
                + ",\"decoder_embed_dim\":" + decoderEmbedDim
                + ",\"decoder_layer_num\":" + decoderLayerNum()
                + ",\"decoder_ffn_embed_dim\":" + list(decoderFfnEmbedDim)
                + ",\"decoder_self_attention_heads\":" + list(decoderSelfAttentionHeads)
                + ",\"decoder_ende_attention_heads\":" + list(decoderEndeAttentionHeads)
                + ",\"decoder_arbitrary_ende_attn\":" + list(decoderArbitraryEndeAttn) + "}";
    }

    private static String list(int[] a) {
        return Arrays.toString(a).replace(" ", "");
    }

    /**
     * Parses a config from JSON in any key order. Per-layer lists longer than the layer number are
     * cut to the active layers (HAT's own genes carry all max-depth entries).
     */
    public static ArchConfig fromJson(String json) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException("config JSON is not valid: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw new BadInputException("config JSON must be an object, got: " + json);
        }
        int el = layerNum(n, "encoder_layer_num");
        int dl = layerNum(n, "decoder_layer_num");
        return new ArchConfig(intField(n, "encoder_embed_dim"),
                layers(n, "encoder_ffn_embed_dim", el), layers(n, "encoder_self_attention_heads", el),
                intField(n, "decoder_embed_dim"),
                layers(n, "decoder_ffn_embed_dim", dl), layers(n, "decoder_self_attention_heads", dl),
                layers(n, "decoder_ende_attention_heads", dl), layers(n, "decoder_arbitrary_ende_attn", dl));
    }

    private static int intField(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isInt()) {
            throw new BadInputException("config field '" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static int layerNum(JsonNode n, String field) {
        int v = intField(n, field);
        if (v < 1) {
            throw new BadInputException("config field '" + field + "' must be at least 1, got " + v);
        }
        return v;
    }

    private static int[] layers(JsonNode n, String field, int layers) {
        JsonNode v = n.get(field);
        if (v == null || !v.isArray() || v.size() < layers) {
            throw new BadInputException("config field '" + field + "' must be a list of at least "
                    + layers + " integers, got " + v);
        }
        int[] out = new int[layers];
        for (int i = 0; i < layers; i++) {
            if (!v.get(i).isInt()) {
                throw new BadInputException("config field '" + field + "[" + i + "]' must be an integer, got " + v.get(i));
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }

    /**
     * Reads a HAT SubTransformer config ({@code configs/<task>/subtransformer/*.yml}: keys such as
     * {@code encoder-embed-dim-subtransformer}, {@code decoder-arbitrary-ende-attn-all-subtransformer});
     * other keys (training options) are ignored, per-layer lists longer than the layer number are cut,
     * and HAT's arbitrary-ende-attn -1/1/2 becomes our 1/2/3 (attend to the last 1/2/3 encoder layers).
     * {@code source} names the file in one-line errors.
     */
    public static ArchConfig fromHatYaml(String yaml, String source) {
        JsonNode n = readHatYaml(yaml, source);
        int el = hatLayerNum(n, "encoder-layer-num-subtransformer", source);
        int dl = hatLayerNum(n, "decoder-layer-num-subtransformer", source);
        int[] arbitrary = hatLayers(n, "decoder-arbitrary-ende-attn-all-subtransformer", dl, source);
        for (int i = 0; i < dl; i++) {
            arbitrary[i] = arbitraryFromHat(arbitrary[i], source + ": decoder-arbitrary-ende-attn-all-subtransformer[" + i + "]");
        }
        try {
            return new ArchConfig(hatInt(n, "encoder-embed-dim-subtransformer", source),
                    hatLayers(n, "encoder-ffn-embed-dim-all-subtransformer", el, source),
                    hatLayers(n, "encoder-self-attention-heads-all-subtransformer", el, source),
                    hatInt(n, "decoder-embed-dim-subtransformer", source),
                    hatLayers(n, "decoder-ffn-embed-dim-all-subtransformer", dl, source),
                    hatLayers(n, "decoder-self-attention-heads-all-subtransformer", dl, source),
                    hatLayers(n, "decoder-ende-attention-heads-all-subtransformer", dl, source), arbitrary);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": " + e.getMessage());
        }
    }

    /** This config as a HAT SubTransformer yml (the ten architecture keys, HAT's -1/1/2 arbitrary attention). */
    public String toHatYaml() {
        int[] arbitrary = Arrays.stream(decoderArbitraryEndeAttn).map(ArchConfig::arbitraryToHat).toArray();
        return "encoder-embed-dim-subtransformer: " + encoderEmbedDim + "\n"
                + "decoder-embed-dim-subtransformer: " + decoderEmbedDim + "\n\n"
                + "encoder-ffn-embed-dim-all-subtransformer: " + Arrays.toString(encoderFfnEmbedDim) + "\n"
                + "decoder-ffn-embed-dim-all-subtransformer: " + Arrays.toString(decoderFfnEmbedDim) + "\n\n"
                + "encoder-layer-num-subtransformer: " + encoderLayerNum() + "\n"
                + "decoder-layer-num-subtransformer: " + decoderLayerNum() + "\n\n"
                + "encoder-self-attention-heads-all-subtransformer: " + Arrays.toString(encoderSelfAttentionHeads) + "\n"
                + "decoder-self-attention-heads-all-subtransformer: " + Arrays.toString(decoderSelfAttentionHeads) + "\n"
                + "decoder-ende-attention-heads-all-subtransformer: " + Arrays.toString(decoderEndeAttentionHeads) + "\n\n"
                + "# -1 = attend to the last encoder layer, 1 = the last two, 2 = the last three\n"
                + "decoder-arbitrary-ende-attn-all-subtransformer: " + Arrays.toString(arbitrary) + "\n";
    }

    /** Our number of last encoder layers (1, 2, 3) as HAT's arbitrary-ende-attn value (-1, 1, 2). */
    static int arbitraryToHat(int layers) {
        return switch (layers) {
            case 1 -> -1;
            case 2 -> 1;
            case 3 -> 2;
            default -> throw new BadInputException("decoder_arbitrary_ende_attn " + layers
                    + " has no HAT value: HAT attends to the last 1, 2 or 3 encoder layers only");
        };
    }

    /**
     * Whether a yml holds any of HAT's SubTransformer architecture keys; HAT's {@code common.yml}
     * (training settings beside the configs in {@code configs/<task>/subtransformer/}) holds none.
     */
    public static boolean hasHatSubTransformerKeys(String yaml, String source) {
        JsonNode n = readHatYaml(yaml, source);
        return HAT_KEYS.values().stream().anyMatch(n::has);
    }

    private static JsonNode readHatYaml(String yaml, String source) {
        JsonNode n;
        try {
            n = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(source + ": not valid YAML: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (n == null || !n.isObject()) {
            throw new BadInputException(source + ": expected a YAML mapping of HAT SubTransformer keys");
        }
        return n;
    }

    /** HAT's arbitrary-ende-attn value (-1, 1, 2) as our number of last encoder layers (1, 2, 3). */
    static int arbitraryFromHat(int hat, String where) {
        return switch (hat) {
            case -1 -> 1;
            case 1 -> 2;
            case 2 -> 3;
            default -> throw new BadInputException(where + " is " + hat + ", HAT knows -1, 1 and 2");
        };
    }

    private static int hatInt(JsonNode n, String key, String source) {
        JsonNode v = n.get(key);
        if (v == null || !v.isInt()) {
            throw new BadInputException(source + ": '" + key + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static int hatLayerNum(JsonNode n, String key, String source) {
        int v = hatInt(n, key, source);
        if (v < 1) {
            throw new BadInputException(source + ": '" + key + "' must be at least 1, got " + v);
        }
        return v;
    }

    private static int[] hatLayers(JsonNode n, String key, int layers, String source) {
        JsonNode v = n.get(key);
        if (v == null || !v.isArray() || v.size() < layers) {
            throw new BadInputException(source + ": '" + key + "' must be a list of at least " + layers
                    + " integers, got " + v);
        }
        int[] out = new int[layers];
        for (int i = 0; i < layers; i++) {
            if (!v.get(i).isInt()) {
                throw new BadInputException(source + ": '" + key + "[" + i + "]' must be an integer, got " + v.get(i));
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }

    /** Stable 16-hex-digit key: SHA-256 of the canonical JSON. */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(toJson().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ArchConfig && ((ArchConfig) o).toJson().equals(toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return toJson();
    }
}
