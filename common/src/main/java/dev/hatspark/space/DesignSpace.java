package dev.hatspark.space;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The choices of every gene of a HAT design space, loaded from YAML (see conf/spaces/demo.yaml).
 * Immutable; the SuperTransformer is sized by the maxima of these choices. The optional key
 * {@code arrangement} ({@code hat} or {@code prenorm}, default {@code prenorm}) picks the model's
 * {@link Arrangement}; it travels with the YAML stored beside checkpoints.
 */
public final class DesignSpace implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String name;
    public final Arrangement arrangement;
    public final int qkvDim;
    public final double dropout;
    public final int[] encoderEmbedDim;
    public final int[] encoderLayerNum;
    public final int[] encoderFfnEmbedDim;
    public final int[] encoderSelfAttentionHeads;
    public final int[] decoderEmbedDim;
    public final int[] decoderLayerNum;
    public final int[] decoderFfnEmbedDim;
    public final int[] decoderSelfAttentionHeads;
    public final int[] decoderEndeAttentionHeads;
    public final int[] decoderArbitraryEndeAttn;
    private final String yaml;

    private DesignSpace(String source, String yaml, JsonNode root) {
        this.yaml = yaml;
        Reader r = new Reader(source, root);
        this.name = r.text("name");
        this.arrangement = r.arrangement("arrangement");
        this.qkvDim = r.positiveInt("qkv_dim");
        this.dropout = r.fraction("dropout");
        this.encoderEmbedDim = r.choices("encoder.embed_dim");
        this.encoderLayerNum = r.choices("encoder.layer_num");
        this.encoderFfnEmbedDim = r.choices("encoder.ffn_embed_dim");
        this.encoderSelfAttentionHeads = r.choices("encoder.self_attention_heads");
        this.decoderEmbedDim = r.choices("decoder.embed_dim");
        this.decoderLayerNum = r.choices("decoder.layer_num");
        this.decoderFfnEmbedDim = r.choices("decoder.ffn_embed_dim");
        this.decoderSelfAttentionHeads = r.choices("decoder.self_attention_heads");
        this.decoderEndeAttentionHeads = r.choices("decoder.ende_attention_heads");
        this.decoderArbitraryEndeAttn = r.choices("decoder.arbitrary_ende_attn");
        for (String f : new String[] {"encoder.self_attention_heads", "decoder.self_attention_heads",
                "decoder.ende_attention_heads"}) {
            for (int h : r.choices(f)) {
                if (qkvDim % h != 0) {
                    throw new IllegalArgumentException(source + ": " + f + " choice " + h
                            + " does not divide qkv_dim " + qkvDim);
                }
            }
        }
        if (min(decoderArbitraryEndeAttn) > max(encoderLayerNum)) {
            throw new IllegalArgumentException(source + ": decoder.arbitrary_ende_attn needs at most "
                    + max(encoderLayerNum) + " encoder layers, smallest choice is " + min(decoderArbitraryEndeAttn));
        }
    }

    /** Parses a design space; {@code source} names the file in error messages. */
    public static DesignSpace parse(String yaml, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": expected a YAML mapping with name, qkv_dim, encoder, decoder");
        }
        return new DesignSpace(source, yaml, root);
    }

    public static DesignSpace load(InputStream in, String source) throws IOException {
        return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), source);
    }

    /** Loads one of the spaces bundled in the jar (conf/spaces/*.yaml is copied to the classpath as spaces/). */
    public static DesignSpace builtin(String name) {
        try (InputStream in = DesignSpace.class.getResourceAsStream("/spaces/" + name + ".yaml")) {
            if (in == null) {
                throw new IllegalArgumentException("no built-in design space '" + name + "' (try demo or hat-wmt14)");
            }
            return load(in, "spaces/" + name + ".yaml");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The YAML this space was parsed from, stored beside checkpoints so they describe themselves. */
    public String yaml() {
        return yaml;
    }

    public int maxEncoderEmbed() { return max(encoderEmbedDim); }
    public int maxDecoderEmbed() { return max(decoderEmbedDim); }
    public int maxEncoderLayers() { return max(encoderLayerNum); }
    public int maxDecoderLayers() { return max(decoderLayerNum); }
    public int maxEncoderFfn() { return max(encoderFfnEmbedDim); }
    public int maxDecoderFfn() { return max(decoderFfnEmbedDim); }

    /** The largest SubTransformer: every gene at its maximum (it equals the SuperTransformer). */
    public ArchConfig largest() {
        return uniform(maxEncoderEmbed(), maxEncoderLayers(), maxEncoderFfn(), max(encoderSelfAttentionHeads),
                maxDecoderEmbed(), maxDecoderLayers(), maxDecoderFfn(), max(decoderSelfAttentionHeads),
                max(decoderEndeAttentionHeads), Math.min(max(decoderArbitraryEndeAttn), maxEncoderLayers()));
    }

    /** The smallest SubTransformer: every gene at its minimum. */
    public ArchConfig smallest() {
        return uniform(min(encoderEmbedDim), min(encoderLayerNum), min(encoderFfnEmbedDim),
                min(encoderSelfAttentionHeads), min(decoderEmbedDim), min(decoderLayerNum),
                min(decoderFfnEmbedDim), min(decoderSelfAttentionHeads), min(decoderEndeAttentionHeads),
                min(decoderArbitraryEndeAttn));
    }

    private static ArchConfig uniform(int ee, int el, int ef, int eh, int de, int dl, int df, int dh, int dx, int da) {
        return new ArchConfig(ee, fill(el, ef), fill(el, eh), de, fill(dl, df), fill(dl, dh), fill(dl, dx), fill(dl, da));
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    static int max(int[] a) { return Arrays.stream(a).max().orElseThrow(); }
    static int min(int[] a) { return Arrays.stream(a).min().orElseThrow(); }

    static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) return true;
        }
        return false;
    }

    /**
     * The choices in which this space and {@code other} differ (order and name aside), each as
     * {@code encoder.embed_dim: imported {640, 512} vs supernet {128, 192, 256}}; empty when none.
     */
    public List<String> differences(DesignSpace other, String label, String otherLabel) {
        List<String> out = new ArrayList<>();
        if (qkvDim != other.qkvDim) {
            out.add("qkv_dim: " + label + " " + qkvDim + " vs " + otherLabel + " " + other.qkvDim);
        }
        String[] names = {"encoder.embed_dim", "encoder.layer_num", "encoder.ffn_embed_dim",
                "encoder.self_attention_heads", "decoder.embed_dim", "decoder.layer_num", "decoder.ffn_embed_dim",
                "decoder.self_attention_heads", "decoder.ende_attention_heads", "decoder.arbitrary_ende_attn"};
        int[][] mine = choiceLists();
        int[][] theirs = other.choiceLists();
        for (int i = 0; i < names.length; i++) {
            if (!Arrays.equals(Arrays.stream(mine[i]).sorted().toArray(), Arrays.stream(theirs[i]).sorted().toArray())) {
                out.add(names[i] + ": " + label + " " + set(mine[i]) + " vs " + otherLabel + " " + set(theirs[i]));
            }
        }
        return out;
    }

    private int[][] choiceLists() {
        return new int[][] {encoderEmbedDim, encoderLayerNum, encoderFfnEmbedDim, encoderSelfAttentionHeads,
                decoderEmbedDim, decoderLayerNum, decoderFfnEmbedDim, decoderSelfAttentionHeads,
                decoderEndeAttentionHeads, decoderArbitraryEndeAttn};
    }

    private static String set(int[] a) {
        return "{" + String.join(", ", Arrays.stream(a).mapToObj(Integer::toString).toList()) + "}";
    }

    @Override
    public String toString() {
        return "DesignSpace(" + name + ")";
    }

    /** Reads typed fields from the YAML tree, failing with the file and dotted field name. */
    private static final class Reader {
        private final String source;
        private final JsonNode root;

        Reader(String source, JsonNode root) {
            this.source = source;
            this.root = root;
        }

        private JsonNode node(String path) {
            JsonNode n = root;
            for (String part : path.split("\\.")) {
                n = n == null ? null : n.get(part);
            }
            if (n == null || n.isNull()) {
                throw new IllegalArgumentException(source + ": missing field '" + path + "'");
            }
            return n;
        }

        Arrangement arrangement(String path) {
            if (root.get(path) == null || root.get(path).isNull()) {
                return Arrangement.PRENORM; // spaces written before the key existed
            }
            Arrangement a = Arrangement.of(root.get(path).asText());
            if (a == null || !root.get(path).isTextual()) {
                throw new IllegalArgumentException(source + ": field '" + path + "' must be hat or prenorm, got "
                        + root.get(path));
            }
            return a;
        }

        String text(String path) {
            JsonNode n = node(path);
            if (!n.isTextual() || n.asText().isBlank()) {
                throw new IllegalArgumentException(source + ": field '" + path + "' must be a non-empty string");
            }
            return n.asText();
        }

        int positiveInt(String path) {
            JsonNode n = node(path);
            if (!n.isInt() || n.asInt() <= 0) {
                throw new IllegalArgumentException(source + ": field '" + path + "' must be a positive integer, got " + n);
            }
            return n.asInt();
        }

        double fraction(String path) {
            JsonNode n = node(path);
            if (!n.isNumber() || n.asDouble() < 0 || n.asDouble() >= 1) {
                throw new IllegalArgumentException(source + ": field '" + path + "' must be a number in [0, 1), got " + n);
            }
            return n.asDouble();
        }

        int[] choices(String path) {
            JsonNode n = node(path);
            if (!n.isArray() || n.isEmpty()) {
                throw new IllegalArgumentException(source + ": field '" + path + "' must be a non-empty list of positive integers");
            }
            List<Integer> out = new ArrayList<>();
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
                JsonNode e = it.next();
                if (!e.isInt() || e.asInt() <= 0) {
                    throw new IllegalArgumentException(source + ": field '" + path + "' must hold positive integers, got " + e);
                }
                if (out.contains(e.asInt())) {
                    throw new IllegalArgumentException(source + ": field '" + path + "' lists " + e + " twice");
                }
                out.add(e.asInt());
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
