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
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Racing (two-fidelity) evaluation for the sweep, pure logic. A new candidate is first scored on a
 * small fixed subset of the validation set; it is promoted to the full set only if it could still
 * enter its budget's parents. Subset and full-set losses are never compared with each other: a
 * candidate's subset loss is compared with the subset loss of the budget's <em>reference</em>, the
 * config it must beat, on the same sentences (a paired difference, whose standard error is small
 * because the sentence difficulty cancels). Parents and winners are chosen on full-set loss only,
 * by the caller, from the candidates this returns as promoted and their full losses.
 *
 * <p>Rule 1: promote c iff {@code subset(c) - subset(ref) - k * SE(c - ref) <= 0}, i.e. unless c is
 * worse than the reference by more than k standard errors of the paired difference (the documented
 * margin; default k = 2, about a 2.3 % one-sided chance of dropping a candidate that is in truth no
 * worse than the reference on the subset's population of sentences). The reference of a budget is the
 * holder of its last parent slot ranked by subset loss among the budget's parent pool
 * ({@link Lockstep#parentPool}: its candidates, carried-over parents included, and the other budgets'
 * candidates that fit it): the next parents are the best {@code parents} of that pool, so a candidate
 * that cannot be told apart from the slot's holder could still take the slot, and one clearly behind it
 * cannot, even when it beats the worst old parent (an earlier rule raced
 * children against the worst old parent's loss and promoted 0.77 of the configs on the demo, against
 * 0.50 with this one). A budget also runs a winner race among its own candidates against their best
 * by subset loss, since its winner is the best of its own rows (a tighter budget's configs in its pool
 * could otherwise crowd all of them out). A config promoted by any race is promoted. The configs ranked
 * at or above the slot are always promoted, so every parent slot is filled by a fully evaluated config,
 * and so is each budget's own best by subset loss.
 *
 * <p>Rule 2 ({@link #decide(Map, int, Map, Map, Params, int, boolean)}) races against the same references, but
 * estimates each difference on the whole set through fully evaluated anchors (a child's parents), with the
 * finite-population standard error, races each budget's own candidates against its best fully evaluated row, and
 * runs only that winner race in the last generation. Rule 3, the default, anchors each side on the mean of its
 * parents instead of choosing the anchors with the smallest SE, and ranks the pool, to find the slot's holder, on
 * the whole set's scale.
 *
 * <p>Racing runs in nested stages ({@link Params#fractions}): the candidates a stage promotes are scored on
 * the next stage's added sentences and raced again with the same rule on all the sentences they have been
 * scored on so far (the pool now the candidates still in the race and the fully evaluated ones); the last
 * stage's promotions are scored on the rest of the set and their full-set loss is the sum over all parts.
 * So a promotion that then loses costs a larger subset, not the whole set, and a config that wins costs
 * the whole set once.
 */
public final class Racing {
    private Racing() {
    }

    /**
     * The knobs. Racing stages at {@code fractions} of the validation sentences (ascending, the first at least
     * {@code minSentences}), nested: each stage's sentences hold the previous stage's, all drawn once with
     * {@code seed}; {@code k} standard errors of margin at every stage, and an indifference zone of {@code delta}
     * nats ({@link #decide(Map, int, Set, Map, double, double)}). Defaults: stages at 10 % (at least 16), 25 % and
     * 50 %, k = 2, delta 0, seed 1, rule 3 (300, 750 and 1,500 sentences of a newstest2013-sized set, 16, 40 and 80 of
     * the demo's 160).
     */
    public record Params(double[] fractions, int minSentences, double k, double delta, long seed, int rule)
            implements java.io.Serializable {
        public static final Params DEFAULT = new Params(new double[] {0.1, 0.25, 0.5}, 16, 2.0, 0, 1, 3);

        /** The stages that were the default before rule 3: sweeps started with them resume with them. */
        public static double[] rule2Fractions() {
            return new double[] {0.1, 0.3};
        }

        /** The current rule ({@link #decide(Map, int, Map, Map, Params, int, boolean)}). */
        public Params(double[] fractions, int minSentences, double k, double delta, long seed) {
            this(fractions, minSentences, k, delta, seed, DEFAULT.rule());
        }

        public Params {
            fractions = fractions.clone();
            boolean ascending = fractions.length > 0;
            for (int i = 0; i < fractions.length; i++) {
                ascending &= fractions[i] > 0 && fractions[i] <= 1 && (i == 0 || fractions[i] > fractions[i - 1]);
            }
            if (!ascending || minSentences < 2 || !(k >= 0) || !(delta >= 0 && delta < 1)) {
                throw new BadInputException("racing needs ascending stage fractions in (0, 1], at least 2 sentences, k >= 0 and"
                        + " a delta in [0, 1) nats; got fractions " + java.util.Arrays.toString(fractions) + ", min sentences "
                        + minSentences + ", k " + k + ", delta " + delta);
            }
            if (rule < 1 || rule > 3) {
                throw new BadInputException("the racing rule must be 1 (paired difference to the slot's holder), 2 (anchored"
                        + " estimates) or 3 (anchored on the parents' mean, ranked on the whole set's scale), got " + rule);
            }
        }

        /** The first stage's share of the validation set. */
        public double fraction() {
            return fractions[0];
        }

        /** Subset size of the first stage for a validation set of n sentences. */
        public int size(int n) {
            return Math.min(n, Math.max(minSentences, (int) Math.round(fractions[0] * n)));
        }

        /**
         * Cumulative sentence counts of the stages for n sentences: strictly increasing, a stage that would not add a
         * sentence or would hold the whole set (that is the full evaluation) left out, except the first.
         */
        public int[] sizes(int n) {
            List<Integer> out = new ArrayList<>(List.of(size(n)));
            for (int i = 1; i < fractions.length; i++) {
                int m = (int) Math.round(fractions[i] * n);
                if (m > out.get(out.size() - 1) && m < n) {
                    out.add(m);
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
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

        /** This result followed by {@code next}'s (the next stage's increment): the sentences of both. */
        public Subset then(Subset next) {
            double[] nll = java.util.Arrays.copyOf(sentenceNll, sentenceNll.length + next.sentenceNll.length);
            System.arraycopy(next.sentenceNll, 0, nll, sentenceNll.length, next.sentenceNll.length);
            return new Subset(nll, tokens + next.tokens);
        }
    }

    /** Paired difference of two subset losses (a − b, nats per target token) and its standard error. */
    public record Difference(double mean, double se) {
    }

    /**
     * The validation set of {@code n} sentences cut into the stages' increments and the rest: element s holds the
     * sentences stage s adds (ascending), the last element those only the full evaluation scores (possibly none).
     * Stage s's sentences are the increments 0..s; all of them and the rest together are the whole set, once each.
     * The same for every sweep with the same knobs.
     */
    public static List<int[]> parts(int n, Params p) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(p.seed());
        for (int i = 0; i < n; i++) { // Fisher-Yates: every prefix is a uniform sample, so the stages nest
            int j = i + rng.nextInt(n - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        List<int[]> out = new ArrayList<>();
        int from = 0;
        for (int m : p.sizes(n)) {
            out.add(sorted(perm, from, m));
            from = m;
        }
        out.add(sorted(perm, from, n));
        return out;
    }

    private static int[] sorted(int[] a, int from, int to) {
        int[] out = java.util.Arrays.copyOfRange(a, from, to);
        java.util.Arrays.sort(out);
        return out;
    }

    /**
     * a − b over the same sentences: mean = Σ(a_i − b_i) / tokens, SE = √(m · s²) / tokens with s² the
     * sample variance of the per-sentence differences (sentences as the sampling unit).
     */
    public static Difference difference(Subset a, Subset b) {
        return difference(a, b, 0);
    }

    /**
     * {@link #difference(Subset, Subset)} as an estimate of the difference on the whole validation set of
     * {@code sentences} sentences, which holds the subset's: the sentences not scored are the only uncertainty, so the
     * variance takes the finite-population factor 1 − m / sentences (0: none; the subset is then a sample of an
     * unbounded set of sentences).
     */
    public static Difference difference(Subset a, Subset b, int sentences) {
        int m = a.sentenceNll().length;
        if (m != b.sentenceNll().length || a.tokens() != b.tokens()) {
            throw new IllegalArgumentException("subset results of different sentence sets: " + m + " vs "
                    + b.sentenceNll().length + " sentences");
        }
        double[] d = new double[m];
        for (int i = 0; i < m; i++) {
            d[i] = a.sentenceNll()[i] - b.sentenceNll()[i];
        }
        return difference(d, a.tokens(), sentences);
    }

    /** Mean (Σ d / tokens) and SE of per-sentence differences d, with the finite-population factor for {@code sentences}. */
    private static Difference difference(double[] d, long tokens, int sentences) {
        int m = d.length;
        double sum = 0;
        for (double v : d) {
            sum += v;
        }
        double mean = sum / m;
        double ss = 0;
        for (double v : d) {
            ss += (v - mean) * (v - mean);
        }
        double var = m > 1 ? ss / (m - 1) : 0;
        double fpc = sentences > 0 ? Math.max(0, 1 - (double) m / sentences) : 1;
        return new Difference(sum / tokens, Math.sqrt(m * var * fpc) / tokens);
    }

    /**
     * The configs of a generation that need a subset result before {@link #decide}: all of them, since the
     * fully evaluated ones (carried-over parents) are ranked with the rest; a racing sweep raced those
     * before promoting them, so their results come from the cache.
     */
    public static Set<String> subsetNeeded(Map<Double, List<Candidate>> generation) {
        Set<String> out = new LinkedHashSet<>();
        generation.values().forEach(list -> list.forEach(c -> out.add(c.hash())));
        return out;
    }

    /** One budget's race: its reference and each raced candidate's paired difference to it. */
    public record Race(String reference, Map<String, Difference> differences, Set<String> promoted) {
    }

    /** The outcome of a generation: per budget its race, and the union of promoted configs. */
    public record Decision(Map<Double, Race> races, Set<String> promoted) {
    }

    /**
     * Which candidates go on to the full set. {@code full} is what this sweep has fully evaluated so far;
     * {@code subset} must hold every config {@link #subsetNeeded} named. A config promoted in one budget is
     * evaluated once and counts as fully evaluated in all.
     */
    public static Decision decide(Map<Double, List<Candidate>> generation, int parents, Set<String> full,
                                  Map<String, Subset> subset, double k) {
        return decide(generation, parents, full, subset, k, 0);
    }

    /**
     * {@link #decide} with an indifference zone of {@code delta} nats: a config below the slot is promoted only if
     * it could beat the reference (or, in the winner race, the budget's best) by at least delta, i.e. unless
     * {@code diff - k SE > -delta}. The slots' holders and the budget's own best always go on. delta = 0 is the
     * exact rule; a positive delta trades parents that are at most about delta better than the slot's holder
     * for fewer full evaluations.
     */
    public static Decision decide(Map<Double, List<Candidate>> generation, int parents, Set<String> full,
                                  Map<String, Subset> subset, double k, double delta) {
        return race(generation, parents, full, null, subset, k, delta, (a, b) -> difference(subset.get(a), subset.get(b)),
                bySubsetLoss(subset), false);
    }

    /**
     * Which candidates go on, by {@code p}'s rule. Rule 1 is {@link #decide(Map, int, Set, Map, double, double)} with
     * {@code fullLoss.keySet()} as the fully evaluated configs. Rule 2 (the default) differs in three ways, each keeping
     * the k-SE guarantee against the config to beat:
     * <ul>
     * <li><b>anchored estimates</b>: a difference a − b is estimated on the whole set as the full-set losses of two
     * fully evaluated anchors plus the stage's per-sentence differences to them, {@code L(x) − L(y) + Σ[(a − x) −
     * (b − y)] / tokens}, with x = a when a is fully evaluated, else one of a's parents (all fully evaluated), and
     * likewise y. A child differs from its parent on far fewer sentences than from an unrelated reference, so its
     * standard error is smaller; the direct paired difference of rule 1 stays one of the options, and the one with
     * the smallest SE is used. On the README's 10-budget demo trajectory this alone cut the replayed cost 0.52× →
     * 0.48× with no parent lost;</li>
     * <li><b>finite-population SE</b>: the stage's sentences are a sample of the {@code sentences} of the set, which
     * the full-set loss is taken on, so the variance takes the factor 1 − m / sentences;</li>
     * <li><b>the winner race against the best so far</b>: a budget's own candidate is raced against the budget's
     * best fully evaluated row of this generation (its carried-over parents, which hold its best so far), not
     * against its best candidate by subset loss; and in the {@code last} generation, where no parents are picked
     * any more, only this winner race runs.</li>
     * </ul>
     * Rule 3 (the default) keeps rule 2's finite-population SE and winner race, and changes two things:
     * <ul>
     * <li><b>fixed anchors</b>: each side of a difference is anchored on the mean of its fully evaluated parents (itself
     * when fully evaluated), a choice made before looking at the losses. Rule 2 took the option with the smallest
     * estimated SE, and the smallest of a few noisy estimates tends to be too small: replaying the README's 10-budget
     * trajectory over 10 subset seeds, rule 2 dropped a true parent in 6 of them, rule 3 in 2;</li>
     * <li><b>ranking on the whole set's scale</b>: the slots and their holder, the reference, are found by full-set
     * loss for fully evaluated configs and by the anchored estimate for the others ({@code Anchored#rankKeys}), not by
     * subset loss, which let a candidate with easy subset sentences take the reference's place and race the others
     * against too low a bar.</li>
     * </ul>
     */
    public static Decision decide(Map<Double, List<Candidate>> generation, int parents, Map<String, Double> fullLoss,
                                  Map<String, Subset> subset, Params p, int sentences, boolean last) {
        if (p.rule() == 1) {
            return decide(generation, parents, fullLoss.keySet(), subset, p.k(), p.delta());
        }
        Map<String, Set<String>> parentsOf = new HashMap<>();
        generation.values().forEach(list -> list.forEach(c ->
                parentsOf.computeIfAbsent(c.hash(), h -> new LinkedHashSet<>()).addAll(c.parentHashes())));
        Anchored est = new Anchored(subset, fullLoss, parentsOf, sentences);
        if (p.rule() == 2) {
            return race(generation, parents, fullLoss.keySet(), fullLoss, subset, p.k(), p.delta(), est::between, bySubsetLoss(subset), last);
        }
        return race(generation, parents, fullLoss.keySet(), fullLoss, subset, p.k(), p.delta(), est::fixed, est::rankKeys, last);
    }

    /** Rules 1 and 2 rank a parent pool by subset loss. */
    private static Function<Set<String>, Map<String, Double>> bySubsetLoss(Map<String, Subset> subset) {
        return pool -> {
            Map<String, Double> out = new HashMap<>();
            pool.forEach(h -> out.put(h, subset.get(h).loss()));
            return out;
        };
    }

    /**
     * The races of a generation. {@code fullLoss} null: rule 1 (the winner race against the budget's best candidate
     * by subset loss, which always goes on); else the winner race is against the budget's best fully evaluated row
     * when it has one. {@code last}: only the winner races.
     */
    private static Decision race(Map<Double, List<Candidate>> generation, int parents, Set<String> full, Map<String, Double> fullLoss,
                                 Map<String, Subset> subset, double k, double delta, BiFunction<String, String, Difference> diff,
                                 Function<Set<String>, Map<String, Double>> rank, boolean last) {
        Map<Double, Race> races = new TreeMap<>();
        Set<String> promoted = new LinkedHashSet<>();
        generation.forEach((b, list) -> {
            if (list.isEmpty()) { // every candidate of the budget dropped at an earlier stage
                return;
            }
            Set<String> distinct = new LinkedHashSet<>();
            Lockstep.parentPool(generation, b).forEach(c -> distinct.add(c.hash()));
            for (String h : distinct) {
                if (!subset.containsKey(h)) {
                    throw new IllegalStateException("candidate " + h + " has no subset result to race on");
                }
            }
            Map<String, Double> key = rank.apply(distinct);
            List<String> ranked = new ArrayList<>(distinct);
            ranked.sort(Comparator.comparingDouble((String h) -> key.get(h)).thenComparing(h -> h));
            Set<String> slots = new LinkedHashSet<>(ranked.subList(0, Math.min(parents, ranked.size())));
            String ref = ranked.get(slots.size() - 1);
            Set<String> ownHashes = new LinkedHashSet<>();
            list.forEach(c -> ownHashes.add(c.hash()));
            // the winner race's reference: the budget's best fully evaluated row (rules 2 and 3), else its best by subset loss,
            // which then always goes on (its best-so-far row may come from any of its candidates, even in the last
            // generation, where no parents are picked any more)
            String best = fullLoss == null ? null : ownHashes.stream().filter(fullLoss::containsKey)
                    .min(Comparator.comparingDouble((String h) -> fullLoss.get(h)).thenComparing(h -> h)).orElse(null);
            String own = best != null ? null : ownHashes.stream()
                    .min(Comparator.comparingDouble((String h) -> subset.get(h).loss()).thenComparing(h -> h)).orElseThrow();
            String winnerRef = best != null ? best : own;
            Map<String, Difference> diffs = new HashMap<>();
            Set<String> in = new LinkedHashSet<>();
            for (String h : distinct) {
                if (full.contains(h)) {
                    continue;
                }
                Difference d = last ? null : diff.apply(h, ref);
                Difference w = ownHashes.contains(h) ? diff.apply(h, winnerRef) : null;
                if (d != null || w != null) {
                    diffs.put(h, d != null ? d : w);
                }
                if ((d != null && (slots.contains(h) || d.mean() - k * d.se() + delta <= 0)) || h.equals(own)
                        || (w != null && w.mean() - k * w.se() + delta <= 0)) {
                    in.add(h);
                }
            }
            races.put(b, new Race(last ? winnerRef : ref, diffs, in));
            promoted.addAll(in);
        });
        return new Decision(races, promoted);
    }

    /** Rule 2's estimates of full-set differences through fully evaluated anchors ({@link #decide(Map, int, Map, Map, Params, int, boolean)}). */
    private record Anchored(Map<String, Subset> subset, Map<String, Double> fullLoss, Map<String, Set<String>> parentsOf,
                            int sentences) {
        Difference between(String a, String b) {
            Difference best = difference(subset.get(a), subset.get(b), sentences);
            for (String x : anchors(a)) {
                for (String y : anchors(b)) {
                    double[] va = subset.get(a).sentenceNll(), vx = subset.get(x).sentenceNll();
                    double[] vb = subset.get(b).sentenceNll(), vy = subset.get(y).sentenceNll();
                    double[] d = new double[va.length];
                    for (int i = 0; i < d.length; i++) {
                        d[i] = (va[i] - vx[i]) - (vb[i] - vy[i]);
                    }
                    Difference r = difference(d, subset.get(a).tokens(), sentences);
                    if (r.se() < best.se()) {
                        best = new Difference(fullLoss.get(x) - fullLoss.get(y) + r.mean(), r.se());
                    }
                }
            }
            return best;
        }

        /**
         * Rule 3's estimate of a − b: each side anchored on the mean of its {@link #anchors} (fixed before looking at the
         * losses, unlike rule 2's choice of the smallest SE, which picks SEs that happen to come out low and so races
         * too tightly); the direct paired difference when a side has no anchor.
         */
        Difference fixed(String a, String b) {
            List<String> xa = anchors(a), xb = anchors(b);
            if (xa.isEmpty() || xb.isEmpty()) {
                return difference(subset.get(a), subset.get(b), sentences);
            }
            double[] da = fromMean(a, xa), db = fromMean(b, xb);
            double[] d = new double[da.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = da[i] - db[i];
            }
            Difference r = difference(d, subset.get(a).tokens(), sentences);
            return new Difference(meanFull(xa) - meanFull(xb) + r.mean(), r.se());
        }

        /**
         * Rule 3 ranks a parent pool on the whole set's scale: a fully evaluated config by its full-set loss, another by
         * its anchors' mean full-set loss plus its subset difference to them (anchored on all the pool's fully evaluated
         * configs when it has no parent that is). A pool with nothing fully evaluated (generation 0) is ranked by subset
         * loss, as in rule 2. The slot's holder is then rarely a candidate whose subset merely happened to be easy.
         */
        Map<String, Double> rankKeys(Set<String> pool) {
            List<String> done = pool.stream().filter(fullLoss::containsKey).toList();
            Map<String, Double> out = new HashMap<>();
            for (String h : pool) {
                if (fullLoss.containsKey(h)) {
                    out.put(h, fullLoss.get(h));
                } else if (done.isEmpty()) {
                    out.put(h, subset.get(h).loss());
                } else {
                    List<String> parents = anchors(h), xs = parents.isEmpty() ? done : parents;
                    double sum = 0;
                    for (double v : fromMean(h, xs)) {
                        sum += v;
                    }
                    out.put(h, meanFull(xs) + sum / subset.get(h).tokens());
                }
            }
            return out;
        }

        /** h's per-sentence NLL minus the mean of {@code xs}'s on the stage's sentences. */
        private double[] fromMean(String h, List<String> xs) {
            double[] v = subset.get(h).sentenceNll(), m = new double[v.length];
            for (String x : xs) {
                double[] w = subset.get(x).sentenceNll();
                for (int i = 0; i < m.length; i++) {
                    m[i] += w[i] / xs.size();
                }
            }
            double[] d = new double[v.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = v[i] - m[i];
            }
            return d;
        }

        private double meanFull(List<String> xs) {
            return xs.stream().mapToDouble(fullLoss::get).sum() / xs.size();
        }

        /** The fully evaluated configs that put h on the full-set scale: itself, else its parents that have a subset result. */
        private List<String> anchors(String h) {
            if (fullLoss.containsKey(h)) {
                return List.of(h);
            }
            return parentsOf.getOrDefault(h, Set.of()).stream()
                    .filter(x -> fullLoss.containsKey(x) && subset.containsKey(x)).toList();
        }
    }
}
