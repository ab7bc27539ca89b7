package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.hatspark.model.SuperTransformerTest.SPACE;
import static dev.hatspark.model.SuperTransformerTest.batch;
import static dev.hatspark.model.SuperTransformerTest.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gradient norm and clipping, and what training says when a step is not finite. */
class TrainingGuardsTest {
    static NDManager root;

    @BeforeAll
    static void start() {
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    @Test
    void gradNormIsTheL2NormOfAllGradientsAndScalingClipsIt() {
        try (NDManager m = root.newSubManager(); Adam adam = Adam.hat(m)) {
            NDArray a = m.create(new float[] {1, 2, 3});
            NDArray b = m.create(new float[] {4, 5});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>(Map.of("a", a, "b", b));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(a.mul(a).sum().add(b.sum()));  // gradients 2a = (2, 4, 6) and (1, 1)
            }
            assertEquals(Math.sqrt(4 + 16 + 36 + 1 + 1), adam.gradNorm(params), 1e-6);
            adam.scaleGradients(params, 0.5f);
            assertArrayEquals(new float[] {1, 2, 3}, a.getGradient().toFloatArray());
            assertEquals(Math.sqrt(58) / 2, adam.gradNorm(params), 1e-6);
            assertEquals(List.of(), adam.nonFiniteGradients(params));
        }
    }

    @Test
    void clippingBoundsTheUpdateOfAHugeGradient() throws Exception {
        List<Batch> train = List.of(batch(300, 20), batch(301, 20));
        float[] unclipped = trainedEmbedding(train, 0f);
        float[] clipped = trainedEmbedding(train, 1e-9f);
        float[] start;
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root)) {
            start = m.parameterMap().get("embed.shared").toFloatArray();
        }
        // Adam normalises a gradient's scale away, except against its eps (1e-8): with the total norm clipped
        // to 1e-9 every update is a fraction of the learning rate, unlike the unclipped run
        assertTrue(maxDiff(start, clipped) < maxDiff(start, unclipped) / 2,
                maxDiff(start, clipped) + " vs " + maxDiff(start, unclipped));
    }

    @Test
    void aNonFiniteLossNamesWhereItStartsAndFiveInARowStopWithStepConfigAndBatch() throws Exception {
        List<Batch> train = List.of(batch(400, 20), batch(401, 20), batch(402, 20));
        SupernetTrainer.Options opt = new SupernetTrainer.Options(20, 1e-3f, 2, 0.1f, 5, 20, 2, 100, 0f);
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            // the encoder FFN's weights so large that its products overflow float
            Grad.disabled(() -> {
                m.parameterMap().get("enc.0.ffn.w1").set(new NDIndex(":"), 3e38f);
                return null;
            });
            assertEquals("enc.0.ffn", m.firstNonFinite(small(), train.get(0), false, 0.1f));
            List<Long> saved = new ArrayList<>();
            var e = assertThrows(SupernetTrainer.DivergedException.class, () -> new SupernetTrainer(opt).train(m, adam, train,
                    SupernetTrainer.Sampler.fixed(small()), (step, loss, norm, tps) -> step, 0, List.of(),
                    (step, mm, a, rows) -> saved.add(step)));
            assertEquals(5, e.step, "five skipped updates in a row, from step 1");
            assertEquals(List.of(2L, 4L), saved, "checkpoints go on while updates are skipped");
            assertEquals(4, e.lastCheckpoint);
            assertTrue(e.getMessage().contains("at step 5: non-finite loss NaN, first non-finite: enc.0.ffn with config "
                    + small().toJson() + " on batch "), e.getMessage());
            assertTrue(e.getMessage().contains("of 3 (epoch 1, 3 pairs, "), e.getMessage());
            assertTrue(e.getMessage().endsWith("every checkpoint is kept, the newest at step 4"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void metricsCarryTheMeanGradientNorm() throws Exception {
        List<Batch> train = List.of(batch(500, 20), batch(501, 20));
        SupernetTrainer.Options opt = new SupernetTrainer.Options(4, 1e-3f, 2, 0.1f, 5, 2, 4, 100, 0f);
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            List<Double> norms = new SupernetTrainer(opt).train(m, adam, train, SupernetTrainer.Sampler.fixed(small()),
                    (step, loss, norm, tps) -> norm, 0, List.of(), (step, mm, a, rows) -> { });
            assertNull(norms.get(0), "no update before the first row");
            assertNotNull(norms.get(1));
            assertTrue(norms.get(1) > 0 && Double.isFinite(norms.get(1)), norms.toString());
        }
    }

    @Test
    void aNonFiniteGradientThatDoesNotRepeatIsComputedAgainAndTheRunEndsAsAnUnfaultedOne() throws Exception {
        List<Batch> train = List.of(batch(600, 20), batch(601, 20));
        SupernetTrainer.Options opt = new SupernetTrainer.Options(4, 1e-2f, 1, 0.1f, 5, 4, 4, 100, 0f);
        float[] clean = embeddingAfter(opt, train, null);
        // a NaN in the first computation of step 2 only: the recomputation is what the clean run computed
        assertArrayEquals(clean, embeddingAfter(opt, train, (step, attempt) -> step == 2 && attempt == 0));
        // a NaN that repeats: step 2's update is skipped, so the weights end elsewhere
        float[] skipped = embeddingAfter(opt, train, (step, attempt) -> step == 2);
        assertTrue(maxDiff(clean, skipped) > 0, "a skipped update changes the outcome");
    }

    private static float[] embeddingAfter(SupernetTrainer.Options opt, List<Batch> train,
                                          java.util.function.BiPredicate<Long, Integer> fault) throws Exception {
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            SupernetTrainer trainer = new SupernetTrainer(opt);
            trainer.fault = fault;
            trainer.train(m, adam, train, SupernetTrainer.Sampler.fixed(small()), (step, loss, norm, tps) -> step, 0,
                    List.of(), (step, mm, a, rows) -> { });
            return m.parameterMap().get("embed.shared").toFloatArray();
        }
    }

    private static float[] trainedEmbedding(List<Batch> train, float clip) throws Exception {
        SupernetTrainer.Options opt = new SupernetTrainer.Options(2, 1e-2f, 1, 0.1f, 5, 2, 2, 100, clip);
        try (SuperTransformer m = SuperTransformer.create(SPACE, 20, 20, 3, root); Adam adam = Adam.hat(root)) {
            new SupernetTrainer(opt).train(m, adam, train, SupernetTrainer.Sampler.fixed(small()),
                    (step, loss, norm, tps) -> step, 0, List.of(), (step, mm, a, rows) -> { });
            return m.parameterMap().get("embed.shared").toFloatArray();
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
