package dev.hatspark.model;

import dev.hatspark.util.BadInputException;
import ai.djl.ndarray.types.Shape;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.DesignSpace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HAT's SuperTransformer state_dict names (fairseq/models/transformer_super.py, as in its checkpoints'
 * "model" entry) against our parameter names, for a SuperTransformer of arrangement {@code hat}.
 *
 * <p>Every HAT tensor is one of ours or the row-wise concatenation of several: an attention's
 * {@code in_proj_weight} {@code [3q, in]} is our q, k, v weights (rows {@code [0:q]}, {@code [q:2q]},
 * {@code [2q:3q]}), its {@code in_proj_bias} our three biases. HAT's LayerNorm {@code weight}/{@code bias}
 * are our {@code g}/{@code b}; sublayer LayerNorms keep their order (self-attention, encoder attention,
 * FFN = ln1, ln2, ln3 in the decoder). Bookkeeping buffers ({@code *.version},
 * {@code *.embed_positions._float_tensor}) hold no weights and are skipped on import.
 */
public final class HatStateDict {
    private HatStateDict() {
    }

    /** A float32 tensor: its shape and row-major data. */
    public record Tensor(long[] shape, float[] data) {
        public Tensor {
            if (Arrays.stream(shape).reduce(1, (a, b) -> a * b) != data.length) {
                throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " cannot hold "
                        + data.length + " values");
            }
        }
    }

    /** How a HAT tensor is made of ours: their rows stacked in order (none for a buffer). */
    private record Entry(String hat, List<String> ours) {
        boolean buffer() {
            return ours.isEmpty();
        }
    }

    /**
     * Our parameters, in checkpoint order, from HAT's tensors. Refuses, in one line naming the key, a
     * missing tensor, a shape that does not fit the design space, and a tensor with no counterpart (e.g.
     * a pre-norm HAT's {@code encoder.layer_norm.weight}, an untied {@code decoder.embed_out}, layers
     * beyond the space's maxima).
     */
    public static Map<String, Tensor> toOurs(DesignSpace space, int srcVocab, int tgtVocab, Map<String, Tensor> hat) {
        requireHat(space);
        Map<String, Shape> ourShapes = SuperTransformer.shapes(space, srcVocab, tgtVocab);
        Map<String, Entry> entries = entries(space, srcVocab, tgtVocab);
        for (String name : hat.keySet()) {
            if (!entries.containsKey(name) && !name.endsWith(".embed_positions.weights")) {
                throw new BadInputException("HAT tensor '" + name + "' has no counterpart in a hat-arrangement "
                        + "SuperTransformer of design space '" + space.name + "'");
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries.values()) {
            Tensor t = hat.get(e.hat());
            if (e.buffer()) {
                continue;
            }
            if (t == null) {
                if (out.containsKey(e.ours().get(0))) {
                    continue; // the shared embedding's second name, already read from the encoder's
                }
                throw new BadInputException("HAT state dict has no tensor '" + e.hat() + "' (design space '"
                        + space.name + "' needs it)");
            }
            long[] want = hatShape(e, ourShapes);
            if (!Arrays.equals(want, t.shape())) {
                throw new BadInputException("HAT tensor '" + e.hat() + "' has shape " + Arrays.toString(t.shape())
                        + ", design space '" + space.name + "' (vocabularies " + srcVocab + "/" + tgtVocab + ") needs "
                        + Arrays.toString(want));
            }
            int offset = 0;
            for (String ours : e.ours()) {
                long[] shape = ourShapes.get(ours).getShape();
                int n = Math.toIntExact(ourShapes.get(ours).size());
                Tensor part = new Tensor(shape, Arrays.copyOfRange(t.data(), offset, offset + n));
                offset += n;
                Tensor before = out.putIfAbsent(ours, part);
                if (before != null && !Arrays.equals(before.data(), part.data())) {
                    throw new BadInputException("HAT tensor '" + e.hat() + "' differs from the encoder's embedding, "
                            + "but equal vocabulary sizes (" + srcVocab + ") make ours one shared matrix "
                            + "(HAT without share_all_embeddings is not supported with equal sizes)");
                }
            }
        }
        return out;
    }

    /**
     * HAT's state_dict, in HAT's order, from our parameters: {@link #toOurs}'s inverse, with fairseq's
     * buffers ({@code *.version} = 3, {@code *.embed_positions._float_tensor}, one element) added so that
     * HAT's {@code load_state_dict} takes it as it is.
     */
    public static Map<String, Tensor> toHat(DesignSpace space, int srcVocab, int tgtVocab, Map<String, Tensor> ours) {
        requireHat(space);
        Map<String, Shape> ourShapes = SuperTransformer.shapes(space, srcVocab, tgtVocab);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries(space, srcVocab, tgtVocab).values()) {
            if (e.buffer()) {
                out.put(e.hat(), new Tensor(new long[] {1}, new float[] {e.hat().endsWith(".version") ? 3f : 0f}));
                continue;
            }
            long[] shape = hatShape(e, ourShapes);
            float[] data = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
            int offset = 0;
            for (String name : e.ours()) {
                Tensor t = ours.get(name);
                if (t == null || !Arrays.equals(t.shape(), ourShapes.get(name).getShape())) {
                    throw new IllegalArgumentException("parameter '" + name + "' is " + (t == null ? "missing"
                            : "of shape " + Arrays.toString(t.shape())) + ", design space '" + space.name + "' needs "
                            + ourShapes.get(name));
                }
                System.arraycopy(t.data(), 0, data, offset, t.data().length);
                offset += t.data().length;
            }
            out.put(e.hat(), new Tensor(shape, data));
        }
        return out;
    }

    /**
     * The HAT name of each of our parameters (with the row range for q/k/v parts), one line each, for
     * documentation and error messages.
     */
    public static Map<String, String> names(DesignSpace space, int srcVocab, int tgtVocab) {
        requireHat(space);
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, Shape> ourShapes = SuperTransformer.shapes(space, srcVocab, tgtVocab);
        for (Entry e : entries(space, srcVocab, tgtVocab).values()) {
            long row = 0;
            for (String ours : e.ours()) {
                long rows = ourShapes.get(ours).get(0);
                out.putIfAbsent(ours, e.ours().size() == 1 ? e.hat() : e.hat() + "[" + row + ":" + (row + rows) + "]");
                row += rows;
            }
        }
        return out;
    }

    private static void requireHat(DesignSpace space) {
        if (space.arrangement != Arrangement.HAT) {
            throw new IllegalArgumentException("design space '" + space.name + "' has arrangement "
                    + space.arrangement.yamlName + ": HAT's tensors fit only arrangement: hat");
        }
    }

    /** The HAT tensor's shape: the rows of its parts stacked (they share the column count). */
    private static long[] hatShape(Entry e, Map<String, Shape> ourShapes) {
        long[] first = ourShapes.get(e.ours().get(0)).getShape().clone();
        for (int i = 1; i < e.ours().size(); i++) {
            first[0] += ourShapes.get(e.ours().get(i)).get(0);
        }
        return first;
    }

    /** Every name of HAT's state_dict for this space, in HAT's order, with the parameters it holds. */
    private static Map<String, Entry> entries(DesignSpace space, int srcVocab, int tgtVocab) {
        boolean shared = srcVocab == tgtVocab;
        // fairseq registers q/k/v as one in_proj_weight only when the query and key inputs are equally wide
        boolean crossSameDim = space.maxEncoderEmbed() == space.maxDecoderEmbed();
        List<Entry> list = new ArrayList<>();
        list.add(new Entry("encoder.version", List.of()));
        list.add(new Entry("encoder.embed_tokens.weight", List.of(shared ? "embed.shared" : "embed.src")));
        list.add(new Entry("encoder.embed_positions._float_tensor", List.of()));
        for (int i = 0; i < space.maxEncoderLayers(); i++) {
            String h = "encoder.layers." + i + ".";
            String o = "enc." + i + ".";
            attention(list, h + "self_attn.", o + "self.", true);
            norm(list, h + "self_attn_layer_norm.", o + "ln1.");
            ffn(list, h, o + "ffn.");
            norm(list, h + "final_layer_norm.", o + "ln2.");
        }
        list.add(new Entry("decoder.version", List.of()));
        list.add(new Entry("decoder.embed_tokens.weight", List.of(shared ? "embed.shared" : "embed.tgt")));
        list.add(new Entry("decoder.embed_positions._float_tensor", List.of()));
        for (int i = 0; i < space.maxDecoderLayers(); i++) {
            String h = "decoder.layers." + i + ".";
            String o = "dec." + i + ".";
            attention(list, h + "self_attn.", o + "self.", true);
            norm(list, h + "self_attn_layer_norm.", o + "ln1.");
            attention(list, h + "encoder_attn.", o + "cross.", crossSameDim);
            norm(list, h + "encoder_attn_layer_norm.", o + "ln2.");
            ffn(list, h, o + "ffn.");
            norm(list, h + "final_layer_norm.", o + "ln3.");
        }
        Map<String, Entry> map = new LinkedHashMap<>();
        list.forEach(e -> map.put(e.hat(), e));
        return map;
    }

    private static void attention(List<Entry> list, String h, String o, boolean sameDim) {
        if (sameDim) {
            list.add(new Entry(h + "in_proj_weight", List.of(o + "q.w", o + "k.w", o + "v.w")));
        } else {
            list.add(new Entry(h + "k_proj_weight", List.of(o + "k.w")));
            list.add(new Entry(h + "v_proj_weight", List.of(o + "v.w")));
            list.add(new Entry(h + "q_proj_weight", List.of(o + "q.w")));
        }
        list.add(new Entry(h + "in_proj_bias", List.of(o + "q.b", o + "k.b", o + "v.b")));
        list.add(new Entry(h + "out_proj.weight", List.of(o + "o.w")));
        list.add(new Entry(h + "out_proj.bias", List.of(o + "o.b")));
    }

    private static void norm(List<Entry> list, String h, String o) {
        list.add(new Entry(h + "weight", List.of(o + "g")));
        list.add(new Entry(h + "bias", List.of(o + "b")));
    }

    private static void ffn(List<Entry> list, String h, String o) {
        list.add(new Entry(h + "fc1.weight", List.of(o + "w1")));
        list.add(new Entry(h + "fc1.bias", List.of(o + "b1")));
        list.add(new Entry(h + "fc2.weight", List.of(o + "w2")));
        list.add(new Entry(h + "fc2.bias", List.of(o + "b2")));
    }
}
