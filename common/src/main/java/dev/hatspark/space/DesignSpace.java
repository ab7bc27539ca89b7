package dev.hatspark.space;

import dev.hatspark.util.BadInputException;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
                    throw new BadInputException(source + ": " + f + " choice " + h
                            + " does not divide qkv_dim " + qkvDim);
                }
            }
        }
        if (min(decoderArbitraryEndeAttn) > max(encoderLayerNum)) {
            throw new BadInputException(source + ": decoder.arbitrary_ende_attn needs at most "
                    + max(encoderLayerNum) + " encoder layers, smallest choice is " + min(decoderArbitraryEndeAttn));
        }
    }

    /** Parses a design space; {@code source} names the file in error messages. */
    public static DesignSpace parse(String yaml, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(source + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException(source + ": expected a YAML mapping with name, qkv_dim, encoder, decoder");
        }
        return new DesignSpace(source, yaml, root);
    }

    /**
     * The design space of a HAT SuperTransformer checkpoint, arrangement {@code hat}, from its
     * argparse args ({@code vars(checkpoint["args"])}, e.g. args.json's "args"): the {@code *_choice}
     * lists, {@code qkv_dim}, {@code dropout}; HAT's arbitrary-ende-attn -1/1/2 become 1/2/3. Refuses,
     * in one line, args that are not a HAT SuperTransformer's (arch not transformersuper*, no
     * {@code *_choice} keys) and options our hat arrangement does not reproduce (pre-norm, learned
     * positions, non-ReLU activation, an untied output projection, super sizes other than the largest
     * choices, which size HAT's tensors but ours are sized by the choices).
     */
    public static DesignSpace fromHatArgs(Map<String, Object> args, String name) {
        HatArgs a = new HatArgs(args, name);
        Object arch = args.get("arch");
        if (!(arch instanceof String) || !((String) arch).startsWith("transformersuper") || !args.containsKey("encoder_embed_choice")) {
            throw new BadInputException(name + ": not a HAT SuperTransformer's args (arch " + arch
                    + (args.containsKey("encoder_embed_choice") ? "" : ", no encoder_embed_choice") + ")");
        }
        a.requireFlag("encoder_normalize_before", false, "HAT's post-norm (arrangement hat)");
        a.requireFlag("decoder_normalize_before", false, "HAT's post-norm (arrangement hat)");
        a.requireFlag("encoder_learned_pos", false, "sinusoidal positions");
        a.requireFlag("decoder_learned_pos", false, "sinusoidal positions");
        a.requireFlag("no_token_positional_embeddings", false, "sinusoidal positions");
        a.requireFlag("vocab_original_scaling", false, "embeddings scaled by sqrt(sampled dim)");
        if (!a.flag("share_all_embeddings", false) && !a.flag("share_decoder_input_output_embed", false)) {
            throw new BadInputException(name + ": share_decoder_input_output_embed=false (an untied output "
                    + "projection) is not supported: ours is the target embedding");
        }
        Object activation = args.getOrDefault("activation_fn", "relu");
        if (!"relu".equals(activation)) {
            throw new BadInputException(name + ": activation_fn=" + activation + " is not supported (ReLU only)");
        }
        int[] encoderEmbed = a.ints("encoder_embed_choice");
        int[] decoderEmbed = a.ints("decoder_embed_choice");
        int[] encoderFfn = a.ints("encoder_ffn_embed_dim_choice");
        int[] decoderFfn = a.ints("decoder_ffn_embed_dim_choice");
        int[] encoderLayers = a.ints("encoder_layer_num_choice");
        int[] decoderLayers = a.ints("decoder_layer_num_choice");
        a.requireSuper("encoder_embed_dim", encoderEmbed, "encoder_embed_choice");
        a.requireSuper("decoder_embed_dim", decoderEmbed, "decoder_embed_choice");
        a.requireSuper("encoder_ffn_embed_dim", encoderFfn, "encoder_ffn_embed_dim_choice");
        a.requireSuper("decoder_ffn_embed_dim", decoderFfn, "decoder_ffn_embed_dim_choice");
        a.requireSuper("encoder_layers", encoderLayers, "encoder_layer_num_choice");
        a.requireSuper("decoder_layers", decoderLayers, "decoder_layer_num_choice");
        int[] arbitrary = a.ints("decoder_arbitrary_ende_attn_choice");
        for (int i = 0; i < arbitrary.length; i++) {
            arbitrary[i] = ArchConfig.arbitraryFromHat(arbitrary[i], name + ": decoder_arbitrary_ende_attn_choice[" + i + "]");
        }
        int qkv;
        if (args.get("qkv_dim") != null) {
            qkv = a.integer("qkv_dim", args.get("qkv_dim"));
        } else if (max(encoderEmbed) == max(decoderEmbed)) {
            qkv = max(encoderEmbed); // HAT's default: Q/K/V as wide as the super embedding
        } else {
            throw new BadInputException(name + ": qkv_dim is unset and the encoder and decoder super dims differ");
        }
        Map<String, Object> encoder = new LinkedHashMap<>();
        encoder.put("embed_dim", encoderEmbed);
        encoder.put("layer_num", encoderLayers);
        encoder.put("ffn_embed_dim", encoderFfn);
        encoder.put("self_attention_heads", a.ints("encoder_self_attention_heads_choice"));
        Map<String, Object> decoder = new LinkedHashMap<>();
        decoder.put("embed_dim", decoderEmbed);
        decoder.put("layer_num", decoderLayers);
        decoder.put("ffn_embed_dim", decoderFfn);
        decoder.put("self_attention_heads", a.ints("decoder_self_attention_heads_choice"));
        decoder.put("ende_attention_heads", a.ints("decoder_ende_attention_heads_choice"));
        decoder.put("arbitrary_ende_attn", arbitrary);
        Map<String, Object> yaml = new LinkedHashMap<>();
        yaml.put("name", name);
        yaml.put("arrangement", Arrangement.HAT.yamlName);
        yaml.put("qkv_dim", qkv);
        yaml.put("dropout", args.getOrDefault("dropout", 0.1));
        yaml.put("encoder", encoder);
        yaml.put("decoder", decoder);
        try {
            return parse(new ObjectMapper(new YAMLFactory()).writeValueAsString(yaml), name);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Typed reads of HAT's args map (JSON or unpickled numbers), failing in one line. */
    private record HatArgs(Map<String, Object> args, String name) {
        int[] ints(String key) {
            Object v = args.get(key);
            if (!(v instanceof List<?> list) || list.isEmpty()) {
                throw new BadInputException(name + ": '" + key + "' must be a non-empty list of integers, got " + v);
            }
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = integer(key, list.get(i));
            }
            return out;
        }

        int integer(String key, Object v) {
            if (!(v instanceof Number n) || n.doubleValue() != n.intValue()) {
                throw new BadInputException(name + ": '" + key + "' must hold integers, got " + v);
            }
            return n.intValue();
        }

        boolean flag(String key, boolean dflt) {
            Object v = args.get(key);
            return v == null ? dflt : Boolean.TRUE.equals(v);
        }

        void requireFlag(String key, boolean expected, String why) {
            if (flag(key, expected) != expected) {
                throw new BadInputException(name + ": " + key + "=" + !expected + " is not supported (" + why + ")");
            }
        }

        void requireSuper(String key, int[] choices, String choiceKey) {
            Object v = args.get(key);
            if (v != null && integer(key, v) != max(choices)) {
                throw new BadInputException(name + ": " + key + "=" + v + " is not the largest " + choiceKey + " "
                        + max(choices) + "; our SuperTransformer is sized by the choices");
            }
        }
    }

    public static DesignSpace load(InputStream in, String source) throws IOException {
        return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), source);
    }

    /** Loads one of the spaces bundled in the jar (conf/spaces/*.yaml is copied to the classpath as spaces/). */
    public static DesignSpace builtin(String name) {
        try (InputStream in = DesignSpace.class.getResourceAsStream("/spaces/" + name + ".yaml")) {
            if (in == null) {
                throw new BadInputException("no built-in design space '" + name + "' (try demo or hat-wmt14)");
            }
            return load(in, "spaces/" + name + ".yaml");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A design space named on the command line ({@code --space}), the same rule in every job and in
     * hat-measure: a path to a YAML file when such a file exists or the text is not a plain name,
     * otherwise a built-in space's name ({@code demo}, {@code hat-wmt14}).
     *
     * @param exists whether a file exists (local or Hadoop path, as the caller reads files)
     * @param read   the text of a file
     */
    public static DesignSpace resolve(String spec, java.util.function.Predicate<String> exists,
                                      java.util.function.Function<String, String> read) {
        if (exists.test(spec)) {
            return parse(read.apply(spec), spec);
        }
        if (spec.matches("[A-Za-z0-9_-]+")) {
            return builtin(spec);
        }
        throw new BadInputException("--space: design space file " + spec + " does not exist");
    }

    /**
     * This space in HAT's SuperTransformer yml keys ({@code configs/<task>/supertransformer/*.yml}
     * without the training settings): super sizes (the largest choices), qkv-dim and the search
     * space, arbitrary-ende-attn as HAT's -1/1/2. {@link #fromHatArgs} reads it back.
     */
    public String toHatYaml() {
        int[] arbitrary = Arrays.stream(decoderArbitraryEndeAttn).map(ArchConfig::arbitraryToHat).toArray();
        return "# hat-spark design space '" + name + "' (arrangement " + arrangement.yamlName + ")\n"
                + "# SuperTransformer configs\n"
                + "encoder-embed-dim: " + maxEncoderEmbed() + "\n"
                + "decoder-embed-dim: " + maxDecoderEmbed() + "\n\n"
                + "encoder-ffn-embed-dim: " + maxEncoderFfn() + "\n"
                + "decoder-ffn-embed-dim: " + maxDecoderFfn() + "\n\n"
                + "encoder-layers: " + maxEncoderLayers() + "\n"
                + "decoder-layers: " + maxDecoderLayers() + "\n\n"
                + "encoder-attention-heads: " + max(encoderSelfAttentionHeads) + "\n"
                + "decoder-attention-heads: " + Math.max(max(decoderSelfAttentionHeads), max(decoderEndeAttentionHeads)) + "\n\n"
                + "qkv-dim: " + qkvDim + "\n\n"
                + "# SubTransformers search space\n"
                + "encoder-embed-choice: " + Arrays.toString(encoderEmbedDim) + "\n"
                + "decoder-embed-choice: " + Arrays.toString(decoderEmbedDim) + "\n\n"
                + "encoder-ffn-embed-dim-choice: " + Arrays.toString(encoderFfnEmbedDim) + "\n"
                + "decoder-ffn-embed-dim-choice: " + Arrays.toString(decoderFfnEmbedDim) + "\n\n"
                + "encoder-layer-num-choice: " + Arrays.toString(encoderLayerNum) + "\n"
                + "decoder-layer-num-choice: " + Arrays.toString(decoderLayerNum) + "\n\n"
                + "encoder-self-attention-heads-choice: " + Arrays.toString(encoderSelfAttentionHeads) + "\n"
                + "decoder-self-attention-heads-choice: " + Arrays.toString(decoderSelfAttentionHeads) + "\n"
                + "decoder-ende-attention-heads-choice: " + Arrays.toString(decoderEndeAttentionHeads) + "\n\n"
                + "# -1 = attend to the last encoder layer, 1 = the last two, 2 = the last three\n"
                + "decoder-arbitrary-ende-attn-choice: " + Arrays.toString(arbitrary) + "\n";
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

    /**
     * The median-size SubTransformer: every gene at its middle choice (the lower one of an even
     * count). The latency protocol's reference config: timed between the others, its latency tracks
     * the machine's speed at a size typical of the space.
     */
    public ArchConfig median() {
        int el = mid(encoderLayerNum);
        return uniform(mid(encoderEmbedDim), el, mid(encoderFfnEmbedDim), mid(encoderSelfAttentionHeads),
                mid(decoderEmbedDim), mid(decoderLayerNum), mid(decoderFfnEmbedDim), mid(decoderSelfAttentionHeads),
                mid(decoderEndeAttentionHeads), Math.min(mid(decoderArbitraryEndeAttn), el)).validate(this);
    }

    private static int mid(int[] a) {
        int[] s = a.clone();
        Arrays.sort(s);
        return s[(s.length - 1) / 2];
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
                throw new BadInputException(source + ": missing field '" + path + "'");
            }
            return n;
        }

        Arrangement arrangement(String path) {
            if (root.get(path) == null || root.get(path).isNull()) {
                return Arrangement.PRENORM; // spaces written before the key existed
            }
            Arrangement a = Arrangement.of(root.get(path).asText());
            if (a == null || !root.get(path).isTextual()) {
                throw new BadInputException(source + ": field '" + path + "' must be hat or prenorm, got "
                        + root.get(path));
            }
            return a;
        }

        String text(String path) {
            JsonNode n = node(path);
            if (!n.isTextual() || n.asText().isBlank()) {
                throw new BadInputException(source + ": field '" + path + "' must be a non-empty string");
            }
            return n.asText();
        }

        int positiveInt(String path) {
            JsonNode n = node(path);
            if (!n.isInt() || n.asInt() <= 0) {
                throw new BadInputException(source + ": field '" + path + "' must be a positive integer, got " + n);
            }
            return n.asInt();
        }

        double fraction(String path) {
            JsonNode n = node(path);
            if (!n.isNumber() || n.asDouble() < 0 || n.asDouble() >= 1) {
                throw new BadInputException(source + ": field '" + path + "' must be a number in [0, 1), got " + n);
            }
            return n.asDouble();
        }

        int[] choices(String path) {
            JsonNode n = node(path);
            if (!n.isArray() || n.isEmpty()) {
                throw new BadInputException(source + ": field '" + path + "' must be a non-empty list of positive integers");
            }
            List<Integer> out = new ArrayList<>();
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
                JsonNode e = it.next();
                if (!e.isInt() || e.asInt() <= 0) {
                    throw new BadInputException(source + ": field '" + path + "' must hold positive integers, got " + e);
                }
                if (out.contains(e.asInt())) {
                    throw new BadInputException(source + ": field '" + path + "' lists " + e + " twice");
                }
                out.add(e.asInt());
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
