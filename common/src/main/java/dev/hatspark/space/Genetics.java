package dev.hatspark.space;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Uniform sampling, mutation and crossover of configs: pure functions of the space and a seeded RNG,
 * so a search is reproducible from its seed. Every result is valid in the space.
 */
public final class Genetics {
    private Genetics() {
    }

    public static ArchConfig sample(DesignSpace s, RandomGenerator rng) {
        int el = pick(s.encoderLayerNum, rng);
        int dl = pick(s.decoderLayerNum, rng);
        return new ArchConfig(pick(s.encoderEmbedDim, rng), picks(s.encoderFfnEmbedDim, el, rng),
                picks(s.encoderSelfAttentionHeads, el, rng), pick(s.decoderEmbedDim, rng),
                picks(s.decoderFfnEmbedDim, dl, rng), picks(s.decoderSelfAttentionHeads, dl, rng),
                picks(s.decoderEndeAttentionHeads, dl, rng), arbitrary(s, dl, el, rng));
    }

    /**
     * {@code n} distinct configs sampled uniformly from {@code seed} (fewer if the space is that
     * small): the sample of measure-latency and hat-measure alike, so a seed names the same configs
     * on a cluster and on a device, and a larger {@code n} extends a smaller one.
     */
    public static List<ArchConfig> sampleDistinct(DesignSpace s, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Set<ArchConfig> configs = new LinkedHashSet<>();
        for (long i = 0; i < 20L * n && configs.size() < n; i++) {
            configs.add(sample(s, rng));
        }
        return List.copyOf(configs);
    }

    /**
     * The configs measure-latency and hat-measure time for seed {@code seed}: the space's largest and
     * smallest configs, then {@link #sampleDistinct} without them, {@code n} in all. Uniform samples
     * rarely come near the corners, so without them the latency predictor extrapolates at both ends of
     * the range that {@code --budgets auto:N} and evaluate's baseline (the largest config) use.
     */
    public static List<ArchConfig> latencySample(DesignSpace s, int n, long seed) {
        Set<ArchConfig> out = new LinkedHashSet<>();
        out.add(s.largest());
        out.add(s.smallest());
        for (ArchConfig c : sampleDistinct(s, n, seed)) {
            if (out.size() >= n) {
                break;
            }
            out.add(c);
        }
        return List.copyOf(out).subList(0, Math.min(n, out.size()));
    }

    /** HAT's mutation: every gene (each layer's value counts as one gene) is resampled with probability {@code p}. */
    public static ArchConfig mutate(DesignSpace s, ArchConfig c, double p, RandomGenerator rng) {
        int ee = rng.nextDouble() < p ? pick(s.encoderEmbedDim, rng) : c.encoderEmbedDim();
        int el = rng.nextDouble() < p ? pick(s.encoderLayerNum, rng) : c.encoderLayerNum();
        int de = rng.nextDouble() < p ? pick(s.decoderEmbedDim, rng) : c.decoderEmbedDim();
        int dl = rng.nextDouble() < p ? pick(s.decoderLayerNum, rng) : c.decoderLayerNum();
        int[] ef = mutateLayers(c.encoderFfn(), el, s.encoderFfnEmbedDim, p, rng);
        int[] eh = mutateLayers(c.encoderHeads(), el, s.encoderSelfAttentionHeads, p, rng);
        int[] df = mutateLayers(c.decoderFfn(), dl, s.decoderFfnEmbedDim, p, rng);
        int[] dh = mutateLayers(c.decoderSelfHeads(), dl, s.decoderSelfAttentionHeads, p, rng);
        int[] dx = mutateLayers(c.decoderEndeHeads(), dl, s.decoderEndeAttentionHeads, p, rng);
        int[] da = mutateLayers(c.decoderArbitrary(), dl, allowedArbitrary(s, el), p, rng);
        return new ArchConfig(ee, ef, eh, de, df, dh, dx, repairArbitrary(s, da, el, rng));
    }

    /** HAT's uniform crossover: every gene comes from either parent with equal probability. */
    public static ArchConfig crossover(DesignSpace s, ArchConfig a, ArchConfig b, RandomGenerator rng) {
        int ee = rng.nextBoolean() ? a.encoderEmbedDim() : b.encoderEmbedDim();
        int el = rng.nextBoolean() ? a.encoderLayerNum() : b.encoderLayerNum();
        int de = rng.nextBoolean() ? a.decoderEmbedDim() : b.decoderEmbedDim();
        int dl = rng.nextBoolean() ? a.decoderLayerNum() : b.decoderLayerNum();
        int[] ef = cross(a.encoderFfn(), b.encoderFfn(), el, rng);
        int[] eh = cross(a.encoderHeads(), b.encoderHeads(), el, rng);
        int[] df = cross(a.decoderFfn(), b.decoderFfn(), dl, rng);
        int[] dh = cross(a.decoderSelfHeads(), b.decoderSelfHeads(), dl, rng);
        int[] dx = cross(a.decoderEndeHeads(), b.decoderEndeHeads(), dl, rng);
        int[] da = cross(a.decoderArbitrary(), b.decoderArbitrary(), dl, rng);
        return new ArchConfig(ee, ef, eh, de, df, dh, dx, repairArbitrary(s, da, el, rng));
    }

    private static int pick(int[] choices, RandomGenerator rng) {
        return choices[rng.nextInt(choices.length)];
    }

    private static int[] picks(int[] choices, int n, RandomGenerator rng) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = pick(choices, rng);
        }
        return out;
    }

    private static int[] allowedArbitrary(DesignSpace s, int encoderLayers) {
        return java.util.Arrays.stream(s.decoderArbitraryEndeAttn).filter(k -> k <= encoderLayers).toArray();
    }

    private static int[] arbitrary(DesignSpace s, int decoderLayers, int encoderLayers, RandomGenerator rng) {
        return picks(allowedArbitrary(s, encoderLayers), decoderLayers, rng);
    }

    /** Layers kept keep their value unless mutated; layers added by a deeper layer number are fresh samples. */
    private static int[] mutateLayers(int[] old, int n, int[] choices, double p, RandomGenerator rng) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i < old.length && rng.nextDouble() >= p ? old[i] : pick(choices, rng);
        }
        return out;
    }

    private static int[] cross(int[] a, int[] b, int n, RandomGenerator rng) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            boolean fromA = rng.nextBoolean();
            if (i >= a.length) {
                fromA = false;
            } else if (i >= b.length) {
                fromA = true;
            }
            out[i] = fromA ? a[i] : b[i];
        }
        return out;
    }

    /** A shallower encoder can invalidate attended-layer counts: resample those from the allowed ones. */
    private static int[] repairArbitrary(DesignSpace s, int[] da, int encoderLayers, RandomGenerator rng) {
        int[] allowed = allowedArbitrary(s, encoderLayers);
        for (int i = 0; i < da.length; i++) {
            if (da[i] > encoderLayers) {
                da[i] = pick(allowed, rng);
            }
        }
        return da;
    }
}
