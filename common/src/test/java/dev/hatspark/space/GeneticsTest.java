package dev.hatspark.space;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class GeneticsTest {
    static final DesignSpace DEMO = DesignSpace.builtin("demo");
    static final DesignSpace WMT = DesignSpace.builtin("hat-wmt14");

    @Test
    void samplesAreValidDiverseAndSeeded() {
        for (DesignSpace s : new DesignSpace[] {DEMO, WMT}) {
            SplittableRandom rng = new SplittableRandom(5);
            Set<String> seen = new HashSet<>();
            Set<Integer> depths = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                ArchConfig c = Genetics.sample(s, rng).validate(s);
                seen.add(c.hash());
                depths.add(c.decoderLayerNum());
            }
            assertTrue(seen.size() > 1900, "uniform sampling of a large space rarely repeats: " + seen.size());
            assertEquals(s.decoderLayerNum.length, depths.size(), "every decoder depth appears");
            assertEquals(Genetics.sample(s, new SplittableRandom(9)), Genetics.sample(s, new SplittableRandom(9)));
        }
    }

    @Test
    void latencySamplesPinTheCornersThenFollowTheSeededSample() {
        for (DesignSpace s : new DesignSpace[] {DEMO, WMT}) {
            java.util.List<ArchConfig> got = Genetics.latencySample(s, 10, 3);
            assertEquals(10, got.size());
            assertEquals(10, new HashSet<>(got).size(), "distinct");
            assertEquals(s.largest(), got.get(0));
            assertEquals(s.smallest(), got.get(1));
            java.util.List<ArchConfig> rest = Genetics.sampleDistinct(s, 10, 3).stream()
                    .filter(c -> !c.equals(s.largest()) && !c.equals(s.smallest())).limit(8).toList();
            assertEquals(rest, got.subList(2, 10), "the seeded sample after the corners, in its order");
            assertEquals(got, Genetics.latencySample(s, 10, 3));
            assertEquals(java.util.List.of(s.largest()), Genetics.latencySample(s, 1, 3));
        }
    }

    @Test
    void mutationResamplesAboutTheGivenShareOfGenes() {
        SplittableRandom rng = new SplittableRandom(1);
        ArchConfig parent = WMT.largest();
        assertEquals(parent, Genetics.mutate(WMT, parent, 0.0, rng));
        int changed = 0;
        int total = 0;
        for (int i = 0; i < 500; i++) {
            ArchConfig child = Genetics.mutate(WMT, parent, 0.3, rng).validate(WMT);
            // the decoder FFN of layer 0 differs from 3072 when it was resampled to another of 3 values
            total++;
            if (child.decoderFfnEmbedDim(0) != 3072) {
                changed++;
            }
        }
        double rate = changed / (double) total;
        assertTrue(rate > 0.12 && rate < 0.28, "expected about 0.3 * 2/3 = 0.2, got " + rate);
    }

    @Test
    void crossoverTakesEveryGeneFromAParentAndStaysValid() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int i = 0; i < 500; i++) {
            ArchConfig a = Genetics.sample(DEMO, rng);
            ArchConfig b = Genetics.sample(DEMO, rng);
            ArchConfig c = Genetics.crossover(DEMO, a, b, rng).validate(DEMO);
            assertTrue(c.encoderEmbedDim() == a.encoderEmbedDim() || c.encoderEmbedDim() == b.encoderEmbedDim());
            assertTrue(c.decoderLayerNum() == a.decoderLayerNum() || c.decoderLayerNum() == b.decoderLayerNum());
            for (int l = 0; l < c.decoderLayerNum(); l++) {
                int f = c.decoderFfnEmbedDim(l);
                boolean fromA = l < a.decoderLayerNum() && a.decoderFfnEmbedDim(l) == f;
                boolean fromB = l < b.decoderLayerNum() && b.decoderFfnEmbedDim(l) == f;
                assertTrue(fromA || fromB, "layer " + l + " FFN comes from a parent");
            }
        }
        ArchConfig x = Genetics.sample(DEMO, new SplittableRandom(3));
        assertEquals(x, Genetics.crossover(DEMO, x, x, new SplittableRandom(4)));
    }
}
