package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;
import ai.djl.ndarray.NDScope;
import dev.hatspark.model.BeamSearch;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.space.ArchConfig;

import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * HAT's latency protocol, the one implementation every measuring path uses (Spark tasks and the
 * standalone device jar): batch 1, a {@code srcLen}-token source, beam search with {@code beam}
 * hypotheses for exactly {@code steps} incremental decoder steps (output projection included),
 * {@code warmup} untimed runs, then {@code runs} timed runs of which the fastest and slowest
 * {@code trim} share are dropped. Encoder and decoder are timed separately. Weights may be random:
 * latency does not depend on their values.
 */
public record LatencyProtocol(int srcLen, int beam, int steps, int warmup, int runs, double trim)
        implements Serializable {

    public LatencyProtocol {
        if (srcLen < 1 || beam < 1 || steps < 1 || warmup < 0 || runs < 1 || trim < 0 || trim >= 0.5) {
            throw new BadInputException("latency protocol needs src_len, beam, steps, runs >= 1, warmup >= 0"
                    + " and trim in [0, 0.5); got " + this);
        }
    }

    /** HAT's protocol, the one definition of every default (ProtocolOptions, evaluate, hat-measure). */
    public static final LatencyProtocol HAT = new LatencyProtocol(30, 5, 30, 5, 20, 0.1);

    public static LatencyProtocol hat() {
        return HAT;
    }

    /** The same shape of work with other warm-up and timed run counts. */
    public LatencyProtocol withRuns(int warmup, int runs) {
        return new LatencyProtocol(srcLen, beam, steps, warmup, runs, trim);
    }

    /** Summary of repeated timings in milliseconds. */
    public record Stats(double trimmedMean, double median, double p25, double p90, double std, int runs)
            implements Serializable {
        public static Stats of(double[] ms, double trim) {
            double[] s = ms.clone();
            Arrays.sort(s);
            int drop = (int) Math.floor(trim * s.length);
            double[] kept = Arrays.copyOfRange(s, drop, s.length - drop);
            double mean = Arrays.stream(kept).average().orElse(Double.NaN);
            double var = Arrays.stream(kept).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, kept.length - 1);
            return new Stats(mean, quantile(s, 0.5), quantile(s, 0.25), quantile(s, 0.9), Math.sqrt(var), s.length);
        }

        private static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(sorted.length - 1, lo + 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    /** Encoder and decoder timings of one config; the latency is the sum of their trimmed means. */
    public record Timing(Stats encoder, Stats decoder) implements Serializable {
        public double latencyMs() {
            return encoder.trimmedMean() + decoder.trimmedMean();
        }
    }

    /** Times one config on this thread's PyTorch; the source tokens are drawn from {@code seed}. */
    public Timing measure(SuperTransformer model, ArchConfig config, long seed) {
        return measure(model, config, seed, TimingClock.WALL);
    }

    /** As {@link #measure(SuperTransformer, ArchConfig, long)}, each run read from {@code clock}. */
    public Timing measure(SuperTransformer model, ArchConfig config, long seed, TimingClock clock) {
        config.validate(model.space());
        int[] src = source(model, seed);
        BeamSearch search = new BeamSearch(model, beam, 1f);
        double[] enc = new double[runs];
        double[] dec = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            double[] t = once(search, config, src, clock);
            if (r >= 0) {
                enc[r] = t[0];
                dec[r] = t[1];
            }
        }
        return new Timing(Stats.of(enc, trim), Stats.of(dec, trim));
    }

    /**
     * A config timed in pairs: each of its runs right after one run of {@code reference}. Whatever slows
     * the machine for longer than a pair (a busy neighbour, a slow spell of the virtual CPU: seconds)
     * slows both runs of the pair, so the per-pair ratios (config encoder or decoder over the reference's
     * whole run) cancel it.
     */
    public record Paired(Timing config, Timing ratios, Stats reference) implements Serializable {
    }

    public Paired measurePaired(SuperTransformer model, ArchConfig config, long seed, ArchConfig reference, long referenceSeed,
                                TimingClock clock) {
        config.validate(model.space());
        reference.validate(model.space());
        int[] src = source(model, seed);
        int[] refSrc = source(model, referenceSeed);
        BeamSearch search = new BeamSearch(model, beam, 1f);
        double[] enc = new double[runs], dec = new double[runs], encRatio = new double[runs], decRatio = new double[runs];
        double[] ref = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            double[] rt = once(search, reference, refSrc, clock);
            double[] t = once(search, config, src, clock);
            if (r >= 0) {
                ref[r] = rt[0] + rt[1];
                enc[r] = t[0];
                dec[r] = t[1];
                encRatio[r] = t[0] / ref[r];
                decRatio[r] = t[1] / ref[r];
            }
        }
        return new Paired(new Timing(Stats.of(enc, trim), Stats.of(dec, trim)),
                new Timing(Stats.of(encRatio, trim), Stats.of(decRatio, trim)), Stats.of(ref, trim));
    }

    private int[] source(SuperTransformer model, long seed) {
        return new SplittableRandom(seed).ints(srcLen - 1, 4, model.srcVocab()).toArray();
    }

    /** One run: encoder ms and decoder ms. */
    private double[] once(BeamSearch search, ArchConfig config, int[] src, TimingClock clock) {
        try (NDScope ignored = new NDScope()) {
            long t0 = clock.nanos();
            BeamSearch.Encoded e = search.encodeNoGrad(config, src);
            long t1 = clock.nanos();
            search.decodeNoGrad(e, steps);
            long t2 = clock.nanos();
            return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6};
        }
    }
}
