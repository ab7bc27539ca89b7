package dev.hatspark.search;

import dev.hatspark.util.BadInputException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Racing (two-fidelity) evaluation for the sweep, pure logic. A new candidate is first scored on a
 * small fixed subset of the validation set; it is promoted to the full set only if it could still
 * enter its budget's parents. Subset and full-set losses are never compared with each other: a
 * candidate's subset loss is compared with the subset loss of the budget's <em>reference</em>, the
 * config it must beat, on the same sentences (a paired difference, whose standard error is small
 * because the sentence difficulty cancels). Parents and winners are chosen on full-set loss only,
 * by the caller, from the candidates this returns as promoted and their full losses.
 *
 * <p>The rule: promote c iff {@code subset(c) - subset(ref) - k * SE(c - ref) <= 0}, i.e. unless c is
 * worse than the reference by more than k standard errors of the paired difference (the documented
 * margin; default k = 2, about a 2.3 % one-sided chance of dropping a candidate that is in truth no
 * worse than the reference on the subset's population of sentences). The reference of a budget is the
 * worst of its {@code parents} best fully evaluated candidates of this generation (the parent cutoff;
 * in evolution these are the carried-over parents); while fewer than {@code parents} are fully
 * evaluated (generation 0), it is the candidate at the remaining parent slot by subset loss, so the
 * slots are always filled by promoted candidates.
 */
public final class Racing {
    private Racing() {
    }

    /**
     * The knobs. {@code fraction} of the validation sentences (at least {@code minSentences}) drawn once
     * with {@code seed}; {@code k} standard errors of margin. Defaults: 10 %, at least 16, k = 2, seed 1
     * (300 sentences of a newstest2013-sized set, 16 of the demo's 160).
     */
    public record Params(double fraction, int minSentences, double k, long seed) implements java.io.Serializable {
        public static final Params DEFAULT = new Params(0.1, 16, 2.0, 1);

        public Params {
            if (!(fraction > 0 && fraction <= 1) || minSentences < 2 || !(k >= 0)) {
                throw new BadInputException("racing needs a subset fraction in (0, 1], at least 2 sentences and k >= 0;"
                        + " got fraction " + fraction + ", min sentences " + minSentences + ", k " + k);
            }
        }

        /** Subset size for a validation set of n sentences. */
        public int size(int n) {
            return Math.min(n, Math.max(minSentences, (int) Math.round(fraction * n)));
        }
    }

    /** A config's subset result: summed NLL per subset sentence (a fixed order) and the subset's target tokens. */
    public record Subset(double[] sentenceNll, long tokens) implements java.io.Serializable {
        public double loss() {
            double s = 0;
            for (double v : sentenceNll) {
                s += v;
            }
            return s / tokens;
        }
    }

    /** Paired difference of two subset losses (a − b, nats per target token) and its standard error. */
    public record Difference(double mean, double se) {
    }

    /** Indices (ascending) of a seeded subset of {@code n} sentences: the same for every sweep with the same knobs. */
    public static int[] subsetIndices(int n, Params p) {
        int m = p.size(n);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(p.seed());
        for (int i = 0; i < m; i++) { // partial Fisher-Yates: the first m are a uniform sample
            int j = i + rng.nextInt(n - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int[] out = java.util.Arrays.copyOf(idx, m);
        java.util.Arrays.sort(out);
        return out;
    }

    /**
     * a − b over the same sentences: mean = Σ(a_i − b_i) / tokens, SE = √(m · s²) / tokens with s² the
     * sample variance of the per-sentence differences (sentences as the sampling unit).
     */
    public static Difference difference(Subset a, Subset b) {
        int m = a.sentenceNll().length;
        if (m != b.sentenceNll().length || a.tokens() != b.tokens()) {
            throw new IllegalArgumentException("subset results of different sentence sets: " + m + " vs "
                    + b.sentenceNll().length + " sentences");
        }
        double[] d = new double[m];
        double sum = 0;
        for (int i = 0; i < m; i++) {
            d[i] = a.sentenceNll()[i] - b.sentenceNll()[i];
            sum += d[i];
        }
        double mean = sum / m;
        double ss = 0;
        for (double v : d) {
            ss += (v - mean) * (v - mean);
        }
        double var = m > 1 ? ss / (m - 1) : 0;
        return new Difference(sum / a.tokens(), Math.sqrt(m * var) / a.tokens());
    }

    /**
     * The configs of a generation that need a subset result before {@link #decide}: every candidate not
     * yet fully evaluated, plus each budget's reference when it is a fully evaluated one.
     */
    public static Set<String> subsetNeeded(Map<Double, List<Candidate>> generation, int parents, Set<String> full,
                                           Map<String, Double> fullLoss) {
        Set<String> out = new LinkedHashSet<>();
        generation.forEach((b, list) -> {
            list.stream().filter(c -> !full.contains(c.hash())).forEach(c -> out.add(c.hash()));
            Candidate ref = fullReference(list, parents, full, fullLoss);
            if (ref != null) {
                out.add(ref.hash());
            }
        });
        return out;
    }

    /** One budget's race: its reference and each raced candidate's paired difference to it. */
    public record Race(String reference, Map<String, Difference> differences, Set<String> promoted) {
    }

    /** The outcome of a generation: per budget its race, and the union of promoted configs. */
    public record Decision(Map<Double, Race> races, Set<String> promoted) {
    }

    /**
     * Which candidates go on to the full set. {@code full} is what this sweep has fully evaluated so far,
     * with {@code fullLoss} their losses; {@code subset} must hold every config {@link #subsetNeeded}
     * named. A config promoted in one budget is evaluated once and counts as fully evaluated in all.
     */
    public static Decision decide(Map<Double, List<Candidate>> generation, int parents, Set<String> full,
                                  Map<String, Double> fullLoss, Map<String, Subset> subset, double k) {
        Map<Double, Race> races = new TreeMap<>();
        Set<String> promoted = new LinkedHashSet<>();
        generation.forEach((b, list) -> {
            List<Candidate> raced = list.stream().filter(c -> !full.contains(c.hash())).toList();
            for (Candidate c : raced) {
                if (!subset.containsKey(c.hash())) {
                    throw new IllegalStateException("candidate " + c.hash() + " has no subset result to race on");
                }
            }
            Candidate ref = fullReference(list, parents, full, fullLoss);
            if (ref == null) { // fewer than `parents` fully evaluated: the remaining slot's holder by subset loss
                int slot = parents - (int) list.stream().filter(c -> full.contains(c.hash())).count();
                List<Candidate> bySubset = new ArrayList<>(raced);
                bySubset.sort(Comparator.comparingDouble((Candidate c) -> subset.get(c.hash()).loss())
                        .thenComparing(Candidate::hash));
                ref = bySubset.isEmpty() ? null : bySubset.get(Math.min(slot, bySubset.size()) - 1);
            }
            Map<String, Difference> diffs = new HashMap<>();
            Set<String> in = new LinkedHashSet<>();
            for (Candidate c : raced) {
                Difference d = difference(subset.get(c.hash()), subset.get(ref.hash()));
                diffs.put(c.hash(), d);
                if (d.mean() - k * d.se() <= 0) {
                    in.add(c.hash());
                }
            }
            races.put(b, new Race(ref == null ? null : ref.hash(), diffs, in));
            promoted.addAll(in);
        });
        return new Decision(races, promoted);
    }

    /** The parent cutoff among fully evaluated candidates: the {@code parents}-th best by full loss, or null. */
    static Candidate fullReference(List<Candidate> list, int parents, Set<String> full, Map<String, Double> fullLoss) {
        List<Candidate> done = new ArrayList<>(list.stream().filter(c -> full.contains(c.hash())).toList());
        if (done.size() < parents) {
            return null;
        }
        done.sort(Comparator.comparingDouble((Candidate c) -> fullLoss.get(c.hash())).thenComparing(Candidate::hash));
        return done.get(parents - 1);
    }
}
