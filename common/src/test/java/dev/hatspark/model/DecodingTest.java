package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Incremental decoding and beam search agree with the teacher-forced forward, in both arrangements. */
class DecodingTest {
    static NDManager root;
    static final Map<Arrangement, SuperTransformer> MODELS = new EnumMap<>(Arrangement.class);

    @BeforeAll
    static void start() {
        root = NDManager.newBaseManager();
        for (Arrangement a : Arrangement.values()) {
            MODELS.put(a, SuperTransformer.create(space(a), 20, 20, 9, root));
        }
    }

    static DesignSpace space(Arrangement a) {
        return DesignSpace.parse("arrangement: " + a.yamlName + "\n" + SuperTransformerTest.TINY, "tiny-" + a.yamlName);
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void incrementalStepsEqualTheTeacherForcedForward(Arrangement arrangement) {
        SuperTransformer model = MODELS.get(arrangement);
        SplittableRandom rng = new SplittableRandom(4);
        for (int trial = 0; trial < 5; trial++) {
            ArchConfig c = Genetics.sample(SuperTransformerTest.SPACE, rng);
            int[] src = {5, 6, 7, 8, 9};
            int[] tgt = {10, 11, 12, 13};
            try (NDScope ignored = new NDScope()) {
                NDArray full = Grad.disabled(() -> model.logProbs(c, new Batch(List.<int[][]>of(new int[][] {src, tgt})), false));
                BeamSearch bs = new BeamSearch(model, 1, 1f);
                BeamSearch.Encoded enc = bs.encode(c, src);
                IncrementalDecoder dec = new IncrementalDecoder(model, c, enc.states, enc.mask);
                long[] feed = {Vocab.DECODER_START, 10, 11, 12, 13};
                for (int t = 0; t < feed.length; t++) {
                    NDArray step = dec.step(root.create(new long[] {feed[t]}));
                    NDArray expected = full.get(new NDIndex("0, {}, :", t));
                    float diff = step.get(0).sub(expected).abs().max().getFloat();
                    assertTrue(diff < 1e-4, "config " + c + " step " + t + " differs by " + diff);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void fixedLengthBeamSearchRunsExactlyMaxLenSteps(Arrangement arrangement) {
        SuperTransformer model = MODELS.get(arrangement);
        ArchConfig c = SuperTransformerTest.SPACE.largest();
        BeamSearch bs = new BeamSearch(model, 5, 1f);
        int[] out = Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                return bs.decode(bs.encode(c, new int[] {4, 5, 6}), 12, true);
            }
        });
        assertEquals(12, out.length);
    }

    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void greedyBeamOfOneFollowsTheArgmaxOfTheFullForward(Arrangement arrangement) {
        SuperTransformer model = MODELS.get(arrangement);
        ArchConfig c = SuperTransformerTest.small();
        int[] src = {7, 8, 9, 10};
        int[] beamOut = new BeamSearch(model, 1, 1f).translate(c, src, 8);
        // re-derive greedily with full forwards over the growing prefix
        int[] prefix = new int[0];
        for (int t = 0; t < beamOut.length; t++) {
            int[] p = prefix;
            int next = Grad.disabled(() -> {
                try (NDScope ignored = new NDScope()) {
                    NDArray lp = model.logProbs(c, new Batch(List.<int[][]>of(new int[][] {src, p})), false);
                    NDArray last = lp.get(new NDIndex("0, {}, :", p.length));
                    last.set(new NDIndex("{}", Vocab.PAD), Float.NEGATIVE_INFINITY); // beam search never picks <pad>
                    return (int) last.argMax().getLong();
                }
            });
            assertEquals(next, beamOut[t], "token " + t);
            prefix = java.util.Arrays.copyOf(prefix, prefix.length + 1);
            prefix[prefix.length - 1] = next;
        }
    }
}
