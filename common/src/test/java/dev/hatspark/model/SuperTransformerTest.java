package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import ai.djl.engine.Engine;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SuperTransformerTest {
    static final String TINY = """
            name: tiny
            qkv_dim: 16
            dropout: 0.1
            encoder: {embed_dim: [8, 16], layer_num: [1, 2], ffn_embed_dim: [16, 32], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [8, 16], layer_num: [1, 2], ffn_embed_dim: [16, 32], self_attention_heads: [2, 4],
                      ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
            """;
    static final DesignSpace SPACE = DesignSpace.parse(TINY, "tiny.yaml");
    static NDManager root;

    @BeforeAll
    static void start() {
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    static Batch batch(long seed, int vocab) {
        Random r = new Random(seed);
        List<int[][]> pairs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int[] s = r.ints(3 + r.nextInt(4), 4, vocab).toArray();
            int[] t = r.ints(2 + r.nextInt(5), 4, vocab).toArray();
            pairs.add(new int[][] {s, t});
        }
        return new Batch(pairs);
    }

    static ArchConfig small() {
        return ArchConfig.fromJson("{\"encoder_embed_dim\":8,\"encoder_layer_num\":1,\"encoder_ffn_embed_dim\":[16],"
                + "\"encoder_self_attention_heads\":[2],\"decoder_embed_dim\":8,\"decoder_layer_num\":1,"
                + "\"decoder_ffn_embed_dim\":[16],\"decoder_self_attention_heads\":[2],"
                + "\"decoder_ende_attention_heads\":[4],\"decoder_arbitrary_ende_attn\":[1]}").validate(SPACE);
    }

    @Test
    void gradientsReachOnlyTheSlicedRegion() {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 1, root);
             NDScope ignored = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(m.loss(small(), batch(3, 20), false, 0.1f));
            NDArray w1 = m.parameterMap().get("enc.0.ffn.w1").getGradient();   // [32, 16] used [:16, :8]
            assertTrue(w1.get(new NDIndex(":16, :8")).abs().sum().getFloat() > 0, "used slice gets gradient");
            assertEquals(0f, w1.get(new NDIndex("16:, :")).abs().sum().getFloat());
            assertEquals(0f, w1.get(new NDIndex(":, 8:")).abs().sum().getFloat());
            NDArray q = m.parameterMap().get("dec.0.cross.q.w").getGradient(); // [16 qkv, 16 dec] used [:, :8]
            assertTrue(q.get(new NDIndex(":, :8")).abs().sum().getFloat() > 0);
            assertEquals(0f, q.get(new NDIndex(":, 8:")).abs().sum().getFloat());
            NDArray ln = m.parameterMap().get("dec.ln.g").getGradient();
            assertEquals(0f, ln.get(new NDIndex("8:")).abs().sum().getFloat());
            // the second encoder layer and the second decoder layer are not in the config
            assertEquals(0f, m.parameterMap().get("enc.1.ffn.w1").getGradient().abs().sum().getFloat());
            assertEquals(0f, m.parameterMap().get("dec.1.self.q.w").getGradient().abs().sum().getFloat());
        }
    }

    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void largestSubTransformerDependsOnEveryParameter(Arrangement arrangement) {
        try (SuperTransformer m = SuperTransformer.create(DecodingTest.space(arrangement), 20, 20, 2, root);
             NDScope ignored = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(m.loss(SPACE.largest(), batch(4, 20), false, 0.1f));
            for (var e : m.parameterMap().entrySet()) {
                if (e.getKey().endsWith(".b") && e.getKey().contains(".k.")) {
                    continue; // a key bias shifts every score of a query equally: softmax makes its gradient 0
                }
                assertTrue(e.getValue().getGradient().abs().sum().getFloat() > 0, e.getKey() + " gets a gradient");
            }
        }
    }

    @Test
    void perSentenceNllComputedInChunksEqualsTheWholeBatchsLogProbs() {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root);
             NDScope ignored = new NDScope()) {
            java.util.Random r = new java.util.Random(4);
            List<int[][]> pairs = new java.util.ArrayList<>();
            for (int i = 0; i < 9; i++) {
                pairs.add(new int[][] {r.ints(2 + r.nextInt(5), 4, 20).toArray(), r.ints(1 + r.nextInt(6), 4, 20).toArray()});
            }
            Batch b = new Batch(pairs);
            for (ArchConfig c : List.of(SPACE.largest(), small())) {
                NDArray target = b.tgtOut(root);
                NDArray whole = Grad.disabled(() -> m.logProbs(c, b, false)).gather(target.expandDims(-1), -1).squeeze(-1).neg()
                        .mul(target.neq(dev.hatspark.corpus.Vocab.PAD).toType(ai.djl.ndarray.types.DataType.FLOAT32, false))
                        .sum(new int[] {1});
                long before = SuperTransformer.outputChunkBytes;
                try {
                    SuperTransformer.outputChunkBytes = 8 * 4 * 20; // 8 tokens of the 20-word vocabulary: 1 sentence of up to 7 target tokens + EOS per chunk
                    float[] chunked = Grad.disabled(() -> m.nllPerSentence(c, b));
                    org.junit.jupiter.api.Assertions.assertArrayEquals(whole.toFloatArray(), chunked, 1e-5f);
                    double sum = 0;
                    for (float v : chunked) {
                        sum += v;
                    }
                    assertEquals(sum, Grad.disabled(() -> m.nllSum(c, b)), 1e-9);
                } finally {
                    SuperTransformer.outputChunkBytes = before;
                }
            }
        }
    }

    @Test
    void forwardReadsOnlyTheFrontSlices() {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 5, root);
             SuperTransformer masked = SuperTransformer.load(SPACE, 20, 20, m.parameters().encode(), root)) {
            Batch b = batch(6, 20);
            ArchConfig c = small();
            double before = new SubnetEvaluator(m, List.of(b)).validLoss(c);
            // overwrite everything outside the slices this config reads with garbage
            for (var e : masked.parameterMap().entrySet()) {
                NDArray p = e.getValue();
                String n = e.getKey();
                if (n.startsWith("enc.1.") || n.startsWith("dec.1.")) {
                    p.set(new NDIndex(":"), 123f);
                } else if (n.endsWith(".w1")) {
                    p.set(new NDIndex("16:, :"), 7f);
                    p.set(new NDIndex(":, 8:"), 7f);
                } else if (n.startsWith("embed.")) {
                    p.set(new NDIndex(":, 8:"), 9f);
                }
            }
            assertEquals(before, new SubnetEvaluator(masked, List.of(b)).validLoss(c), 0.0);
            assertNotEquals(before, new SubnetEvaluator(masked, List.of(b)).validLoss(SPACE.largest()));
        }
    }

    @Test
    void checkpointRoundTripGivesBitIdenticalLoss() {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 7, root);
             SuperTransformer copy = SuperTransformer.load(SPACE, 20, 20, m.parameters().encode(), root)) {
            Batch b = batch(8, 20);
            for (ArchConfig c : List.of(small(), SPACE.largest())) {
                assertEquals(new SubnetEvaluator(m, List.of(b)).validLoss(c), new SubnetEvaluator(copy, List.of(b)).validLoss(c), 0.0);
            }
            DesignSpace other = DesignSpace.parse(TINY.replace("ffn_embed_dim: [16, 32]", "ffn_embed_dim: [16, 64]"), "o.yaml");
            var e = assertThrows(IllegalArgumentException.class,
                    () -> SuperTransformer.load(other, 20, 20, m.parameters().encode(), root));
            assertTrue(e.getMessage().contains("ffn"), e.getMessage());
        }
    }

    @Test
    void evaluatorRejectsConfigsOutsideTheSpace() {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 1, root)) {
            ArchConfig wide = ArchConfig.fromJson(small().toJson().replace("\"encoder_embed_dim\":8", "\"encoder_embed_dim\":32"));
            var e = assertThrows(IllegalArgumentException.class, () -> new SubnetEvaluator(m, List.of(batch(1, 20))).validLoss(wide));
            assertTrue(e.getMessage().contains("encoder_embed_dim"), e.getMessage());
        }
    }

    @Test
    void trainingLowersLossAndResumesExactly() throws Exception {
        List<Batch> train = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            train.add(batch(100 + i, 20));
        }
        SupernetTrainer.Options opt = new SupernetTrainer.Options(12, 3e-3f, 3, 0.1f, 11, 6, 6, 100, 0f);
        byte[][] saved = new byte[2][];
        List<SupernetTrainer.Metrics> straight;
        byte[] straightWeights;
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            SubnetEvaluator ev = new SubnetEvaluator(m, train);
            straight = new SupernetTrainer(opt).train(m, adam, train, ev, 0, List.of(), (step, mm, a, rows) -> {
                if (step == 6) {
                    saved[0] = mm.parameters().encode();
                    saved[1] = a.state().encode();
                }
            });
            straightWeights = m.parameters().encode();
        }
        assertTrue(straight.get(straight.size() - 1).validLossLargest() < straight.get(0).validLossLargest() - 0.1,
                "loss drops: " + straight);
        assertTrue(straight.get(straight.size() - 1).validLossSmallest() < straight.get(0).validLossSmallest() - 0.1);
        try (SuperTransformer m = SuperTransformer.load(SPACE, 20, 20, saved[0], root); Adam adam = Adam.hat(root)) {
            adam.load(saved[1]);
            SubnetEvaluator ev = new SubnetEvaluator(m, train);
            List<SupernetTrainer.Metrics> resumed = new SupernetTrainer(opt).train(m, adam, train, ev, 6,
                    straight.subList(0, 2), (step, mm, a, rows) -> { });
            assertEquals(straight.get(2).validLossLargest(), resumed.get(2).validLossLargest(), 0.0);
            assertEquals(straight.get(2).trainLoss(), resumed.get(2).trainLoss(), 0.0);
            assertArrayEquals(straightWeights, m.parameters().encode(), "resumed weights equal the straight run's");
        }
    }

    @Test
    void subnetParameterCountIsTheSliceItReads() {
        try (SuperTransformer joint = SuperTransformer.create(SPACE, 20, 20, 1, root);
             SuperTransformer separate = SuperTransformer.create(SPACE, 20, 30, 1, root)) {
            assertEquals(joint.parameterCount(), joint.parameterCount(SPACE.largest()), "largest = whole SuperTransformer");
            assertEquals(separate.parameterCount(), separate.parameterCount(SPACE.largest()));
            // by hand for small() (e = d = 8, qkv 16, FFN 16, one layer each, joint vocabulary of 20):
            // embedding 160; encoder layer 568 attention + 280 FFN + 32 LayerNorm; encoder LN 16;
            // decoder layer 568 self + 568 cross + 280 FFN + 48 LayerNorm; decoder LN 16
            assertEquals(160 + 880 + 16 + 1464 + 16, joint.parameterCount(small()));
        }
    }

    @Test
    void hatArrangementHasNoFinalLayerNormsAndCountsParametersLikeHat() {
        DesignSpace hat = DecodingTest.space(Arrangement.HAT);
        try (SuperTransformer h = SuperTransformer.create(hat, 20, 20, 1, root);
             SuperTransformer p = SuperTransformer.create(SPACE, 20, 20, 1, root)) {
            assertTrue(p.parameterMap().keySet().containsAll(List.of("enc.ln.g", "enc.ln.b", "dec.ln.g", "dec.ln.b")));
            assertEquals(p.parameterMap().size() - 4, h.parameterMap().size());
            assertTrue(h.parameterMap().keySet().stream().noneMatch(n -> n.startsWith("enc.ln.") || n.startsWith("dec.ln.")));
            // small(): layers 880 + 1464 (see subnetParameterCountIsTheSliceItReads), embedding 160, final LNs 16 + 16
            assertEquals(880 + 1464, h.hatParameterCount(small()));
            assertEquals(880 + 1464, p.hatParameterCount(small()), "HAT's count has neither embedding nor final LNs");
            assertEquals(160 + 880 + 1464, h.parameterCount(small()));
            assertEquals(h.parameterCount(), h.parameterCount(hat.largest()));
            var e = assertThrows(IllegalArgumentException.class,
                    () -> SuperTransformer.load(hat, 20, 20, p.parameters().encode(), root));
            assertTrue(e.getMessage().contains("(arrangement hat) needs"), e.getMessage());
        }
    }

    @Test
    void aFixedConfigTrainsOnlyItsOwnSlice() throws Exception {
        List<Batch> train = List.of(batch(200, 20), batch(201, 20));
        SupernetTrainer.Options opt = new SupernetTrainer.Options(8, 3e-3f, 2, 0.1f, 5, 8, 8, 100, 0f);
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            float[] layer1Before = m.parameterMap().get("enc.1.ffn.w1").toFloatArray();
            float[] ffnTailBefore = m.parameterMap().get("enc.0.ffn.w1").get(new NDIndex("16:, :")).toFloatArray();
            float[] ffnHeadBefore = m.parameterMap().get("enc.0.ffn.w1").get(new NDIndex(":16, :8")).toFloatArray();
            SubnetEvaluator ev = new SubnetEvaluator(m, train);
            List<Double> losses = new SupernetTrainer(opt).train(m, adam, train, SupernetTrainer.Sampler.fixed(small()),
                    (step, trainLoss, gradNorm, tps) -> ev.validLoss(small()), 0, List.of(), (step, mm, a, rows) -> { });
            assertTrue(losses.get(1) < losses.get(0) - 0.1, "the config's loss drops: " + losses);
            assertArrayEquals(layer1Before, m.parameterMap().get("enc.1.ffn.w1").toFloatArray(), "a layer it lacks");
            assertArrayEquals(ffnTailBefore, m.parameterMap().get("enc.0.ffn.w1").get(new NDIndex("16:, :")).toFloatArray(),
                    "FFN rows beyond its width");
            assertFalse(java.util.Arrays.equals(ffnHeadBefore,
                    m.parameterMap().get("enc.0.ffn.w1").get(new NDIndex(":16, :8")).toFloatArray()), "its own slice moves");
        }
    }
}
