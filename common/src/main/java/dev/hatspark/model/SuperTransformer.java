package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * HAT's weight-sharing SuperTransformer (encoder-decoder) in plain DJL ops.
 *
 * <p>The design space's {@link Arrangement} picks HAT's own arrangement (post-norm, no final
 * LayerNorms, fairseq positions: HAT checkpoints load into it, see {@link #fromTensors}) or our pre-norm
 * one with final LayerNorms. One forward serves both; the differences sit in {@link #sublayer},
 * {@link #finalNorm} and the position helpers.
 *
 * <p>Parameters have the maxima of the design space. A SubTransformer forward takes its
 * {@link ArchConfig} as an argument and reads the front slice of every tensor: linear weights
 * {@code [:out, :in]}, biases and LayerNorm {@code [:d]}, embedding columns {@code [:, :d]}, the first
 * layers. Q/K/V stay {@code qkv_dim} wide whatever the head count (fewer heads means wider heads).
 * Because the config is an argument, not module state, one loaded model serves many configs, also
 * from several threads.
 */
public final class SuperTransformer implements AutoCloseable {
    private static final float NEG_INF = -1e9f;
    private static final float LN_EPS = 1e-5f;

    private final DesignSpace space;
    private final int srcVocab;
    private final int tgtVocab;
    private final boolean sharedEmbedding;
    private final boolean hatArrangement;
    private final NDManager manager;
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    /** Receives named intermediate results of a forward while a diagnosis runs on this thread. */
    private final ThreadLocal<BiConsumer<String, NDArray>> probe = new ThreadLocal<>();

    private SuperTransformer(DesignSpace space, int srcVocab, int tgtVocab, NDManager manager) {
        this.space = space;
        this.srcVocab = srcVocab;
        this.tgtVocab = tgtVocab;
        this.sharedEmbedding = srcVocab == tgtVocab;
        this.hatArrangement = space.arrangement == Arrangement.HAT;
        this.manager = manager;
    }

    /**
     * A freshly initialised SuperTransformer. With equal source and target vocabulary sizes (a joint
     * vocabulary) one embedding matrix serves encoder input, decoder input and output projection.
     */
    public static SuperTransformer create(DesignSpace space, int srcVocab, int tgtVocab, long seed, NDManager parent) {
        SuperTransformer m = new SuperTransformer(space, srcVocab, tgtVocab, parent.newSubManager());
        Random rng = new Random(seed);
        for (Map.Entry<String, Shape> e : shapes(space, srcVocab, tgtVocab).entrySet()) {
            m.params.put(e.getKey(), m.init(e.getKey(), e.getValue(), rng));
        }
        m.params.values().forEach(p -> p.setRequiresGradient(true));
        return m;
    }

    /** Rebuilds a SuperTransformer from {@link #parameters()} saved with {@link NDList#encode()}. */
    public static SuperTransformer load(DesignSpace space, int srcVocab, int tgtVocab, byte[] encoded, NDManager parent) {
        SuperTransformer m = new SuperTransformer(space, srcVocab, tgtVocab, parent.newSubManager());
        NDList list = NDList.decode(m.manager, encoded);
        Map<String, Shape> expected = shapes(space, srcVocab, tgtVocab);
        if (list.size() != expected.size()) {
            throw new IllegalArgumentException("checkpoint has " + list.size() + " tensors, design space '"
                    + space.name + "' (arrangement " + space.arrangement.yamlName + ") needs " + expected.size());
        }
        for (NDArray a : list) {
            Shape want = expected.get(a.getName());
            if (want == null || !want.equals(a.getShape())) {
                throw new IllegalArgumentException("checkpoint tensor '" + a.getName() + "' has shape " + a.getShape()
                        + ", design space '" + space.name + "' needs " + want);
            }
            a.setRequiresGradient(true);
            m.params.put(a.getName(), a);
        }
        return m;
    }

    /**
     * A hat-arrangement SuperTransformer holding HAT's weights: {@code hat} maps HAT's state_dict names
     * ({@code encoder.layers.0.self_attn.in_proj_weight}, ...) to float32 tensors, as read from a HAT
     * checkpoint; see {@link HatStateDict} for the mapping and its one-line refusals.
     */
    public static SuperTransformer fromTensors(DesignSpace space, int srcVocab, int tgtVocab,
                                               Map<String, HatStateDict.Tensor> hat, NDManager parent) {
        Map<String, HatStateDict.Tensor> ours = HatStateDict.toOurs(space, srcVocab, tgtVocab, hat);
        SuperTransformer m = new SuperTransformer(space, srcVocab, tgtVocab, parent.newSubManager());
        ours.forEach((name, t) -> {
            NDArray a = m.manager.create(t.data(), new Shape(t.shape()));
            a.setRequiresGradient(true);
            m.params.put(name, a);
        });
        return m;
    }

    /** This (hat-arrangement) model's weights under HAT's state_dict names, in HAT's order. */
    public Map<String, HatStateDict.Tensor> toHatTensors() {
        Map<String, HatStateDict.Tensor> ours = new LinkedHashMap<>();
        params.forEach((name, p) -> ours.put(name, new HatStateDict.Tensor(p.getShape().getShape(), p.toFloatArray())));
        return HatStateDict.toHat(space, srcVocab, tgtVocab, ours);
    }

    /** Every parameter, named, in a fixed order (the checkpoint format). */
    public NDList parameters() {
        NDList list = new NDList();
        params.forEach((name, p) -> {
            p.setName(name);
            list.add(p);
        });
        return list;
    }

    public Map<String, NDArray> parameterMap() {
        return params;
    }

    public DesignSpace space() {
        return space;
    }

    public int srcVocab() {
        return srcVocab;
    }

    public int tgtVocab() {
        return tgtVocab;
    }

    public NDManager manager() {
        return manager;
    }

    public long parameterCount() {
        return params.values().stream().mapToLong(p -> p.getShape().size()).sum();
    }

    /**
     * Parameters SubTransformer {@code c} reads (the front slices of the shared tensors): its model size,
     * as our reports give it. A joint vocabulary's one embedding matrix counts once, at the wider of the
     * two embedding dims; the final LayerNorms count in the prenorm arrangement (HAT's has none).
     * Differs from {@link #hatParameterCount} by exactly the embedding and the final LayerNorms.
     */
    public long parameterCount(ArchConfig c) {
        long e = c.encoderEmbedDim();
        long d = c.decoderEmbedDim();
        long n = sharedEmbedding ? tgtVocab * Math.max(e, d) : srcVocab * e + tgtVocab * d;
        return n + hatParameterCount(c) + (hatArrangement ? 0 : 2 * e + 2 * d);
    }

    /**
     * HAT's model size of {@code c}, {@code get_sampled_params_numel} (fairseq/models/transformer_super.py:187):
     * the Linear, LayerNorm and attention parameters of the used layers only. Unlike
     * {@link #parameterCount} it leaves out the embedding matrix (and final LayerNorms, which HAT's
     * arrangement lacks); the attention's in_proj bias counts in full (3 x qkv_dim) as HAT counts it,
     * which is also what a SubTransformer reads. HAT's papers and latency tables use this number.
     */
    public long hatParameterCount(ArchConfig c) {
        long e = c.encoderEmbedDim();
        long d = c.decoderEmbedDim();
        long q = space.qkvDim;
        long n = 0;
        for (int i = 0; i < c.encoderLayerNum(); i++) {
            n += attentionParams(e, e, q) + ffnParams(e, c.encoderFfnEmbedDim(i)) + 2 * 2 * e;
        }
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            n += attentionParams(d, d, q) + attentionParams(d, e, q) + ffnParams(d, c.decoderFfnEmbedDim(i)) + 3 * 2 * d;
        }
        return n;
    }

    private static long attentionParams(long dq, long dkv, long q) {
        return (q * dq + q) + 2 * (q * dkv + q) + (dq * q + dq);
    }

    private static long ffnParams(long d, long f) {
        return (f * d + f) + (d * f + d);
    }

    /** Every parameter's name and full shape, in checkpoint order. */
    static Map<String, Shape> shapes(DesignSpace space, int srcVocab, int tgtVocab) {
        Map<String, Shape> s = new LinkedHashMap<>();
        int e = space.maxEncoderEmbed();
        int d = space.maxDecoderEmbed();
        int q = space.qkvDim;
        boolean finalNorms = space.arrangement == Arrangement.PRENORM;
        if (srcVocab == tgtVocab) {
            s.put("embed.shared", new Shape(tgtVocab, Math.max(e, d)));
        } else {
            s.put("embed.src", new Shape(srcVocab, e));
            s.put("embed.tgt", new Shape(tgtVocab, d));
        }
        for (int i = 0; i < space.maxEncoderLayers(); i++) {
            String p = "enc." + i + ".";
            attentionShapes(s, p + "self.", e, e, q);
            norm(s, p + "ln1.", e);
            ffnShapes(s, p + "ffn.", e, space.maxEncoderFfn());
            norm(s, p + "ln2.", e);
        }
        if (finalNorms) {
            norm(s, "enc.ln.", e);
        }
        for (int i = 0; i < space.maxDecoderLayers(); i++) {
            String p = "dec." + i + ".";
            attentionShapes(s, p + "self.", d, d, q);
            norm(s, p + "ln1.", d);
            attentionShapes(s, p + "cross.", d, e, q);
            norm(s, p + "ln2.", d);
            ffnShapes(s, p + "ffn.", d, space.maxDecoderFfn());
            norm(s, p + "ln3.", d);
        }
        if (finalNorms) {
            norm(s, "dec.ln.", d);
        }
        return s;
    }

    private static void attentionShapes(Map<String, Shape> s, String p, int dq, int dkv, int q) {
        s.put(p + "q.w", new Shape(q, dq));
        s.put(p + "q.b", new Shape(q));
        s.put(p + "k.w", new Shape(q, dkv));
        s.put(p + "k.b", new Shape(q));
        s.put(p + "v.w", new Shape(q, dkv));
        s.put(p + "v.b", new Shape(q));
        s.put(p + "o.w", new Shape(dq, q));
        s.put(p + "o.b", new Shape(dq));
    }

    private static void ffnShapes(Map<String, Shape> s, String p, int d, int f) {
        s.put(p + "w1", new Shape(f, d));
        s.put(p + "b1", new Shape(f));
        s.put(p + "w2", new Shape(d, f));
        s.put(p + "b2", new Shape(d));
    }

    private static void norm(Map<String, Shape> s, String p, int d) {
        s.put(p + "g", new Shape(d));
        s.put(p + "b", new Shape(d));
    }

    /** Xavier-uniform linear weights, N(0, d^-1/2) embeddings, LayerNorm gain 1, zero biases. */
    private NDArray init(String name, Shape shape, Random rng) {
        float[] v = new float[Math.toIntExact(shape.size())];
        if (name.startsWith("embed.")) {
            double std = Math.pow(shape.get(1), -0.5);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rng.nextGaussian() * std);
            }
            for (int j = 0; j < shape.get(1); j++) {
                v[Vocab.PAD * (int) shape.get(1) + j] = 0f;
            }
        } else if (name.endsWith(".g")) {
            java.util.Arrays.fill(v, 1f);
        } else if (shape.dimension() == 2) {
            double bound = Math.sqrt(6.0 / (shape.get(0) + shape.get(1)));
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
        }
        return manager.create(v, shape);
    }

    private NDArray p(String name) {
        return params.get(name);
    }

    private NDArray slice(String name, int rows) {
        return p(name).get(new NDIndex(":{}", rows));
    }

    private NDArray slice(String name, int rows, int cols) {
        return p(name).get(new NDIndex(":{}, :{}", rows, cols));
    }

    NDArray srcEmbedding() {
        return p(sharedEmbedding ? "embed.shared" : "embed.src");
    }

    NDArray tgtEmbedding() {
        return p(sharedEmbedding ? "embed.shared" : "embed.tgt");
    }

    // ---------------------------------------------------------------- forward

    /**
     * Training loss of SubTransformer {@code c} on a batch: label-smoothed cross-entropy averaged over
     * target tokens. {@code train} turns dropout on (scaled by sampled/max embedding dim).
     */
    public NDArray loss(ArchConfig c, Batch batch, boolean train, float labelSmoothing) {
        NDManager m = manager;
        NDArray target = batch.tgtOut(m);
        NDArray logp = logProbs(c, batch, train);
        NDArray nll = logp.gather(target.expandDims(-1), -1).squeeze(-1).neg();
        NDArray smooth = logp.mean(new int[] {-1}).neg();
        NDArray mask = target.neq(Vocab.PAD).toType(DataType.FLOAT32, false);
        NDArray perToken = Scalar.mul(nll, 1 - labelSmoothing).add(Scalar.mul(smooth, labelSmoothing));
        return Scalar.div(perToken.mul(mask).sum(), batch.targetTokens);
    }

    /**
     * Where SubTransformer {@code c}'s training loss on {@code batch} first stops being finite: a parameter
     * it reads, or the first intermediate result (e.g. {@code dec.1.cross.scores}, {@code logits}) holding NaN
     * or infinity; "none" when all are finite. Set the random seed as for the failed step first, so
     * dropout draws the same masks.
     */
    public String firstNonFinite(ArchConfig c, Batch batch, boolean train, float labelSmoothing) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            if (!Torch.allFinite(e.getValue())) {
                return "parameter " + e.getKey();
            }
        }
        String[] first = {null};
        probe.set((name, x) -> {
            if (first[0] == null && !Torch.allFinite(x)) {
                first[0] = name;
            }
        });
        try {
            Grad.disabled(() -> {
                try (ai.djl.ndarray.NDScope ignored = new ai.djl.ndarray.NDScope()) {
                    seen("loss", loss(c, batch, train, labelSmoothing));
                }
                return null;
            });
        } finally {
            probe.remove();
        }
        return first[0] == null ? "none" : first[0];
    }

    private NDArray seen(String name, NDArray x) {
        BiConsumer<String, NDArray> p = probe.get();
        if (p != null) {
            p.accept(name, x);
        }
        return x;
    }

    /** Summed target-token negative log-likelihood (no smoothing, no dropout): for validation loss. */
    public double nllSum(ArchConfig c, Batch batch) {
        double sum = 0;
        for (float v : nllPerSentence(c, batch)) {
            sum += v;
        }
        return sum;
    }

    /**
     * Bytes of vocabulary-wide float rows (logits, log-probabilities) computed at once in evaluation: 16 MiB, half
     * the malloc mmap threshold submit/hat sets, so each chunk's buffers are reused from the heap instead of freshly
     * mapped, and large enough that the output projection's GEMM runs near full speed (512 tokens of the demo's
     * 8,000-word vocabulary ran the smallest config 5-10 % faster than 256 tokens; 128 tokens of a 32k vocabulary).
     */
    static long outputChunkBytes = Long.getLong("hat.eval.outputChunkMiB", 16) << 20;

    /**
     * Summed target-token NLL of each sentence of the batch, in batch order: for paired comparisons.
     * The output projection and log-softmax run on a few sentences at a time: a whole batch's
     * {@code [tokens, vocab]} rows are hundreds of MB that are freshly mapped (page faults) and streamed
     * through memory twice, a chunk's stay in cache.
     */
    public float[] nllPerSentence(ArchConfig c, Batch batch) {
        NDArray target = batch.tgtOut(manager);
        NDArray src = batch.src(manager);
        NDArray srcMask = paddingMask(src);
        NDArray h = decode(c, batch.tgtIn(manager), encode(c, src, srcMask, false), srcMask, false);
        int len = (int) target.getShape().get(1);
        int step = (int) Math.max(1, outputChunkBytes / (4L * tgtVocab()) / len);
        float[] out = new float[batch.size];
        for (int from = 0; from < batch.size; from += step) {
            int to = Math.min(batch.size, from + step);
            try (ai.djl.ndarray.NDScope ignored = new ai.djl.ndarray.NDScope()) {
                NDIndex rows = new NDIndex("{}:{}", from, to);
                NDArray t = target.get(rows);
                NDArray nll = outputLogProbs(c, h.get(rows)).gather(t.expandDims(-1), -1).squeeze(-1).neg();
                float[] part = nll.mul(t.neq(Vocab.PAD).toType(DataType.FLOAT32, false)).sum(new int[] {1}).toFloatArray();
                System.arraycopy(part, 0, out, from, part.length);
            }
        }
        return out;
    }

    /** Log-probabilities over the target vocabulary, {@code [batch, tgtLen, vocab]}. */
    NDArray logProbs(ArchConfig c, Batch batch, boolean train) {
        NDArray src = batch.src(manager);
        NDArray srcMask = paddingMask(src);
        List<NDArray> encoderStates = encode(c, src, srcMask, train);
        return outputLogProbs(c, decode(c, batch.tgtIn(manager), encoderStates, srcMask, train));
    }

    /** Additive key-padding mask of a source batch {@code [B, S]}: {@code [B, 1, 1, S]}. */
    NDArray paddingMask(NDArray src) {
        long[] shape = src.getShape().getShape();
        return src.eq(Vocab.PAD).toType(DataType.FLOAT32, false).mul(NEG_INF).reshape(shape[0], 1, 1, shape[1]);
    }

    /** Output projection (tied to the target embedding) and log-softmax of final decoder states. */
    NDArray outputLogProbs(ArchConfig c, NDArray h) {
        int d = c.decoderEmbedDim();
        NDArray logits = seen("logits", Linear.linear(h, tgtEmbedding().get(new NDIndex(":, :{}", d))).singletonOrThrow());
        return seen("log_probs", logits.logSoftmax(-1));
    }

    /**
     * Runs the encoder; returns the outputs of its active layers (each through the final encoder
     * LayerNorm in the prenorm arrangement), so that arbitrary encoder-decoder attention can pick any of
     * the last k. HAT's older blocks are plain layer outputs too (post-norm, no final LayerNorm).
     * One difference from HAT remains when fewer encoder layers than the maximum are sampled: HAT then
     * counts its identity (skipped) layers among the "last k", we count only active layers. HAT's
     * own spaces fix the encoder depth, so this never arises with them.
     */
    List<NDArray> encode(ArchConfig c, NDArray src, NDArray srcMask, boolean train) {
        int d = c.encoderEmbedDim();
        float drop = train ? (float) (space.dropout * d / space.maxEncoderEmbed()) : 0f;
        NDArray x = seen("enc.embed", dropout(embed(srcEmbedding(), space.maxEncoderEmbed(), src, d), drop));
        List<NDArray> states = new ArrayList<>();
        for (int i = 0; i < c.encoderLayerNum(); i++) {
            String p = "enc." + i + ".";
            int heads = c.encoderSelfAttentionHeads(i);
            int f = c.encoderFfnEmbedDim(i);
            x = seen(p + "self", sublayer(x, p + "ln1.", d, drop, y -> attention(y, y, p + "self.", d, d, heads, srcMask)));
            x = seen(p + "ffn", sublayer(x, p + "ln2.", d, drop, y -> ffn(y, p + "ffn.", d, f, drop)));
            states.add(finalNorm(x, "enc.ln.", d));
        }
        return states;
    }

    /**
     * Teacher-forced decoder states {@code [B, T, D]}. Decoder self-attention is causal and, as in HAT,
     * has no key-padding mask: targets are right-padded, so causality already hides the pads.
     */
    NDArray decode(ArchConfig c, NDArray tgtIn, List<NDArray> encoderStates, NDArray srcMask, boolean train) {
        int d = c.decoderEmbedDim();
        int e = c.encoderEmbedDim();
        float drop = train ? (float) (space.dropout * d / space.maxDecoderEmbed()) : 0f;
        long len = tgtIn.getShape().get(1);
        NDArray causal = causalMask(len);
        NDArray x = seen("dec.embed", dropout(embed(tgtEmbedding(), space.maxDecoderEmbed(), tgtIn, d), drop));
        for (int i = 0; i < c.decoderLayerNum(); i++) {
            String p = "dec." + i + ".";
            int selfHeads = c.decoderSelfAttentionHeads(i);
            int endeHeads = c.decoderEndeAttentionHeads(i);
            int f = c.decoderFfnEmbedDim(i);
            int k = c.decoderArbitraryEndeAttn(i);
            NDArray memory = lastLayers(encoderStates, k);
            NDArray memoryMask = memoryMask(srcMask, k);
            x = seen(p + "self", sublayer(x, p + "ln1.", d, drop, y -> attention(y, y, p + "self.", d, d, selfHeads, causal)));
            x = seen(p + "cross", sublayer(x, p + "ln2.", d, drop, y -> attention(y, memory, p + "cross.", d, e, endeHeads, memoryMask)));
            x = seen(p + "ffn", sublayer(x, p + "ln3.", d, drop, y -> ffn(y, p + "ffn.", d, f, drop)));
        }
        return seen("dec.out", finalNorm(x, "dec.ln.", d));
    }

    /**
     * One residual sublayer {@code f} with its LayerNorm {@code ln}: pre-norm {@code x + f(LN(x))}, or
     * HAT's post-norm {@code LN(x + f(x))}; dropout on f's output either way.
     */
    NDArray sublayer(NDArray x, String ln, int d, float drop, UnaryOperator<NDArray> f) {
        return hatArrangement ? norm(x.add(dropout(f.apply(x), drop)), ln, d) : x.add(dropout(f.apply(norm(x, ln, d)), drop));
    }

    /** The final encoder/decoder LayerNorm of the prenorm arrangement; HAT's arrangement has none. */
    NDArray finalNorm(NDArray x, String prefix, int d) {
        return hatArrangement ? x : norm(x, prefix, d);
    }

    /** Additive mask that hides future positions: [1, 1, len, len]. */
    private NDArray causalMask(long len) {
        int n = Math.toIntExact(len);
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[i * n + j] = NEG_INF;
            }
        }
        return manager.create(m, new Shape(1, 1, n, n));
    }

    /** The padding mask of k concatenated encoder layers: the source mask repeated along time. */
    static NDArray memoryMask(NDArray srcMask, int k) {
        return k == 1 ? srcMask : NDArrays.concat(new NDList(java.util.Collections.nCopies(k, srcMask)), 3);
    }

    /** Keys/values of arbitrary attention: the last k encoder layers' outputs concatenated along time. */
    static NDArray lastLayers(List<NDArray> states, int k) {
        NDList last = new NDList(states.subList(states.size() - k, states.size()));
        return k == 1 ? last.get(0) : NDArrays.concat(last, 1);
    }

    /**
     * Token embeddings of a right-padded batch {@code [B, T]} scaled by sqrt(sampled dim d) (HAT too:
     * not sqrt of the super dim), plus positions: HAT's are fairseq's make_positions numbers (pads 1,
     * real tokens 2, 3, ... from the first non-pad token, so left and right padding agree) indexing
     * the sinusoid table of the super dim {@code superDim}, sliced to d columns; prenorm's are
     * 0, 1, ... of a sinusoid of width d.
     */
    private NDArray embed(NDArray table, int superDim, NDArray ids, int d) {
        NDArray x = tokens(table, ids, d);
        if (!hatArrangement) {
            return x.add(positions(ids.getShape().get(1), d));
        }
        NDArray real = ids.neq(Vocab.PAD).toType(DataType.INT64, false);
        NDArray numbers = real.cumSum(1).mul(real).add(Vocab.PAD);
        NDArray rows = hatSinusoids(0, ids.getShape().get(1) + Vocab.PAD + 1, superDim, d);
        return x.add(Embedding.embedding(numbers, rows, SparseFormat.DENSE).singletonOrThrow());
    }

    /**
     * Decoder input of one incremental step after {@code first} earlier tokens: {@code [N, 1]} ids,
     * each at position {@code first} (prenorm) or {@code first + 2} (HAT; a decoding prefix has no pads).
     */
    NDArray embedStep(NDArray ids, int d, int first) {
        NDArray x = tokens(tgtEmbedding(), ids, d);
        if (!hatArrangement) {
            return x.add(positions(first + 1, d).get(new NDIndex("{}:", first)));
        }
        return x.add(hatSinusoids(first + Vocab.PAD + 1, first + Vocab.PAD + 2, space.maxDecoderEmbed(), d));
    }

    private NDArray tokens(NDArray table, NDArray ids, int d) {
        NDArray x = Embedding.embedding(ids, table.get(new NDIndex(":, :{}", d)), SparseFormat.DENSE).singletonOrThrow();
        return Scalar.mul(x, (float) Math.sqrt(d));
    }

    /**
     * Rows {@code from..to-1} of fairseq's sinusoid table at the super dim S (row p:
     * {@code [sin(p f_0) .. sin(p f_{S/2-1}), cos(p f_0) ..]}, {@code f_k = 10000^(-k/(S/2-1))}, row
     * padding_idx zero), first d columns only: a 48-wide SubTransformer of a 64-wide SuperTransformer
     * adds all 32 sines and the first 16 cosines, not a fresh 48-wide sinusoid.
     */
    NDArray hatSinusoids(long from, long to, int superDim, int d) {
        int half = superDim / 2;
        int n = Math.toIntExact(to - from);
        float[] t = new float[n * d];
        for (int r = 0; r < n; r++) {
            long p = from + r;
            for (int j = 0; j < d && p != Vocab.PAD; j++) {
                int k = j < half ? j : j - half;
                double angle = p * Math.exp(-k * Math.log(10000.0) / (half - 1));
                t[r * d + j] = (float) (j < half ? Math.sin(angle) : Math.cos(angle));
            }
        }
        return manager.create(t, new Shape(n, d));
    }

    /** Prenorm's sinusoidal positions 0..len-1 at the sampled width d (no parameters). */
    NDArray positions(long len, int d) {
        int half = d / 2;
        NDArray pos = manager.arange(0f, (float) len).reshape(len, 1);
        NDArray freq = manager.arange(0f, (float) half).mul((float) (-Math.log(10000.0) / (half - 1))).exp()
                .reshape(1, half);
        NDArray angles = pos.matMul(freq);
        return angles.sin().concat(angles.cos(), 1);
    }

    NDArray norm(NDArray x, String prefix, int d) {
        return LayerNorm.layerNorm(x, new Shape(d), slice(prefix + "g", d), slice(prefix + "b", d), LN_EPS)
                .singletonOrThrow();
    }

    NDArray ffn(NDArray x, String p, int d, int f, float drop) {
        NDArray h = Linear.linear(x, slice(p + "w1", f, d), slice(p + "b1", f)).singletonOrThrow();
        h = dropout(Activation.relu(h), drop);
        return Linear.linear(h, slice(p + "w2", d, f), slice(p + "b2", d)).singletonOrThrow();
    }

    /** Multi-head attention with qkv_dim-wide projections; mask is additive and broadcast to [B, h, Tq, Tk]. */
    private NDArray attention(NDArray xq, NDArray xkv, String p, int dq, int dkv, int heads, NDArray mask) {
        return attend(heads(xq, p + "q", dq, heads), heads(xkv, p + "k", dkv, heads), heads(xkv, p + "v", dkv, heads),
                mask, p, dq);
    }

    /** Projects {@code [B, T, in]} with weight {@code name.w[:qkv, :in]} and splits heads: {@code [B, h, T, qkv/h]}. */
    NDArray heads(NDArray x, String name, int in, int heads) {
        int q = space.qkvDim;
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        return Linear.linear(x, slice(name + ".w", q, in), p(name + ".b")).singletonOrThrow()
                .reshape(b, t, heads, q / heads).transpose(0, 2, 1, 3);
    }

    /** Scaled dot-product attention over split heads, then the output projection to {@code dOut}. */
    NDArray attend(NDArray qs, NDArray ks, NDArray vs, NDArray mask, String p, int dOut) {
        long b = qs.getShape().get(0);
        long tq = qs.getShape().get(2);
        NDArray scores = Scalar.mul(qs.matMul(ks.transpose(0, 1, 3, 2)), (float) (1.0 / Math.sqrt(qs.getShape().get(3))));
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray out = seen(p + "softmax", seen(p + "scores", scores).softmax(-1)).matMul(vs).transpose(0, 2, 1, 3).reshape(b, tq, space.qkvDim);
        return Linear.linear(out, slice(p + "o.w", dOut, space.qkvDim), slice(p + "o.b", dOut)).singletonOrThrow();
    }

    private static NDArray dropout(NDArray x, float rate) {
        return rate > 0 ? Dropout.dropout(x, rate, true).singletonOrThrow() : x;
    }

    @Override
    public void close() {
        manager.close();
    }
}
