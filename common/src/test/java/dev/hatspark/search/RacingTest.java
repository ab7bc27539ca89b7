package dev.hatspark.search;

import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class RacingTest {
    private final DesignSpace space = DesignSpace.builtin("demo");

    private Candidate cand(long seed, String origin) {
        return new Candidate(Genetics.sample(space, new SplittableRandom(seed)), origin, List.of(), 10);
    }

    /** Per-sentence NLL sums: a shared sentence difficulty plus a per-config offset per token and small noise. */
    private static Racing.Subset subset(double offset, double noise, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        SplittableRandom difficulty = new SplittableRandom(99); // the same sentences for every config
        double[] nll = new double[40];
        for (int i = 0; i < nll.length; i++) {
            nll[i] = 10 * (5 + 3 * difficulty.nextDouble() + offset) + noise * (r.nextDouble() - 0.5);
        }
        return new Racing.Subset(nll, 400); // 10 tokens a sentence
    }

    /** The first stage's sentences. */
    private static int[] first(int n, Racing.Params p) {
        return Racing.parts(n, p).get(0);
    }

    private static Racing.Params params(long seed, double... fractions) {
        return new Racing.Params(fractions, 16, 2, 0, seed);
    }

    @Test
    void theSubsetIsAFixedSeededSampleOfTheRequestedSize() {
        Racing.Params p = params(1, 0.1);
        int[] a = first(3000, p);
        assertEquals(300, a.length);
        assertEquals(300, Arrays.stream(a).distinct().count());
        assertTrue(Arrays.stream(a).allMatch(i -> i >= 0 && i < 3000));
        assertArrayEquals(a, first(3000, p), "seeded");
        assertFalse(Arrays.equals(a, first(3000, params(2, 0.1))));
        assertEquals(16, first(160, p).length, "the minimum wins on small sets");
        assertEquals(10, first(10, p).length, "never more than the set");
        assertThrows(RuntimeException.class, () -> params(1, 0));
        assertThrows(RuntimeException.class, () -> params(1, 0.3, 0.1), "stages ascend");
        assertThrows(RuntimeException.class, () -> params(1));
    }

    @Test
    void stagesAreNestedSubsetsAndTheirPartsCoverTheSetOnce() {
        Racing.Params p = params(1, 0.1, 0.3);
        List<int[]> parts = Racing.parts(3000, p);
        assertEquals(3, parts.size(), "two stages' increments and the rest");
        assertArrayEquals(new int[] {300, 600, 2100}, parts.stream().mapToInt(x -> x.length).toArray());
        assertArrayEquals(Racing.parts(3000, params(1, 0.1)).get(0), parts.get(0),
                "the first stage does not depend on the later ones: a single-stage sweep's subset and cache stay valid");
        int[] all = parts.stream().flatMapToInt(Arrays::stream).sorted().toArray();
        assertArrayEquals(java.util.stream.IntStream.range(0, 3000).toArray(), all, "every sentence in exactly one part");
        for (int[] part : parts) {
            assertTrue(java.util.stream.IntStream.range(1, part.length).allMatch(i -> part[i - 1] < part[i]), "ascending");
        }
        // the second stage's sentences are a seeded sample too: not simply the next indices after the first's
        assertFalse(Arrays.equals(parts.get(1), Racing.parts(3000, params(2, 0.1, 0.3)).get(1)));
        assertArrayEquals(new int[] {16, 48}, p.sizes(160), "the demo's 160 sentences");
        assertArrayEquals(new int[] {16}, params(1, 0.05, 0.1).sizes(160), "a stage adding nothing to the minimum is left out");
        assertArrayEquals(new int[] {10}, p.sizes(10), "a set smaller than the minimum: one stage of all of it");
        assertEquals(0, Racing.parts(10, p).get(1).length, "and nothing left for the full evaluation");
        assertArrayEquals(new int[] {16}, params(1, 0.1, 1.0).sizes(160), "the whole set is the full evaluation, not a stage");
    }

    @Test
    void aStageResultExtendsThePreviousOnesSentenceBySentence() {
        Racing.Subset a = new Racing.Subset(new double[] {1, 2}, 10);
        Racing.Subset both = a.then(new Racing.Subset(new double[] {3}, 5));
        assertArrayEquals(new double[] {1, 2, 3}, both.sentenceNll());
        assertEquals(15, both.tokens());
        assertEquals(6.0 / 15, both.loss(), 1e-12);
        assertArrayEquals(new double[] {1, 2}, a.sentenceNll(), "the earlier result is unchanged");
    }

    @Test
    void thePairedDifferenceCancelsSentenceDifficulty() {
        Racing.Subset a = new Racing.Subset(new double[] {12, 22, 31, 41}, 40);
        Racing.Subset b = new Racing.Subset(new double[] {10, 20, 30, 40}, 40);
        Racing.Difference d = Racing.difference(a, b);
        assertEquals(6.0 / 40, d.mean(), 1e-12);
        // differences 2, 2, 1, 1: sample variance 1/3, SE = sqrt(4 * 1/3) / 40
        assertEquals(Math.sqrt(4.0 / 3) / 40, d.se(), 1e-12);
        assertEquals(0, Racing.difference(b, b).se(), 0);
        assertEquals(a.loss() - b.loss(), d.mean(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Racing.difference(a, new Racing.Subset(new double[] {1}, 40)));
    }

    @Test
    void generationZeroPromotesTheParentSlotsAndWhatCannotBeToldApartFromThem() {
        List<Candidate> g0 = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            g0.add(cand(i, Candidate.RANDOM));
        }
        Map<String, Racing.Subset> sub = new HashMap<>();
        double[] offsets = {0.0, 0.1, 0.2, 0, 1.0, 2.0}; // nats per token worse than the best
        for (int i = 0; i < 6; i++) {
            sub.put(g0.get(i).hash(), subset(offsets[i], 0.5, i));
        }
        // the reference (third) plus +1, -0.6, +1, ...: 0.02 nats worse, SE 0.0128, so not 2 SE worse
        sub.put(g0.get(3).hash(), plus(sub.get(g0.get(2).hash()), 1, -0.6));
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(50.0, g0));
        assertEquals(hashes(g0), Racing.subsetNeeded(gen), "nothing is fully evaluated yet");
        Racing.Decision d = Racing.decide(gen, 3, Set.of(), sub, 2.0);
        assertEquals(g0.get(2).hash(), d.races().get(50.0).reference(), "the third best by subset holds the last parent slot");
        Set<String> want = Set.of(g0.get(0).hash(), g0.get(1).hash(), g0.get(2).hash(), g0.get(3).hash());
        assertEquals(want, d.promoted(), "0.02 nats behind the reference is within 2 SE; 0.8 and 1.8 are not");
        Racing.Difference diff = d.races().get(50.0).differences().get(g0.get(3).hash());
        assertEquals(0.02, diff.mean(), 1e-9);
        assertEquals(0.0128, diff.se(), 1e-4);
        // an indifference zone of 0.01 nats: 0.02 - 2 x 0.0128 + 0.01 > 0, so the fourth is out; the slots' holders stay in
        // whatever the zone, though the first two are within 2 SE + delta of nothing they must beat
        assertEquals(Set.of(g0.get(0).hash(), g0.get(1).hash(), g0.get(2).hash()), Racing.decide(gen, 3, Set.of(), sub, 2.0, 0.01).promoted());
        assertEquals(Set.of(g0.get(0).hash(), g0.get(1).hash(), g0.get(2).hash()), Racing.decide(gen, 3, Set.of(), sub, 2.0, 0.5).promoted());
        assertEquals(want, Racing.decide(gen, 3, Set.of(), sub, 2.0, 0.005).promoted(), "0.02 - 0.0256 + 0.005 <= 0: still in");
        sub.put(g0.get(3).hash(), plus(sub.get(g0.get(2).hash()), 1, -0.5)); // 0.025 worse, SE 0.0120: out
        assertFalse(Racing.decide(gen, 3, Set.of(), sub, 2.0).promoted().contains(g0.get(3).hash()));
    }

    @Test
    void laterGenerationsRaceChildrenAgainstTheLastParentSlotAmongParentsAndChildren() {
        Candidate p1 = cand(1, Candidate.PARENT), p2 = cand(2, Candidate.PARENT);
        Candidate better = cand(3, Candidate.MUTATION), close = cand(4, Candidate.MUTATION), mid = cand(5, Candidate.CROSSOVER),
                worse = cand(6, Candidate.CROSSOVER);
        List<Candidate> list = List.of(p1, p2, better, close, mid, worse);
        Set<String> done = Set.of(p1.hash(), p2.hash());
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(80.0, list));
        assertEquals(hashes(list), Racing.subsetNeeded(gen), "parents are ranked with their children, so all need a subset result");
        Map<String, Racing.Subset> sub = new HashMap<>(Map.of(p1.hash(), subset(0.0, 0.2, 1), p2.hash(), subset(0.5, 0.2, 2),
                better.hash(), subset(0.1, 0.2, 3), worse.hash(), subset(0.9, 0.2, 6)));
        sub.put(close.hash(), plus(sub.get(better.hash()), 1, -0.6)); // 0.02 worse than the slot's holder, SE 0.0128
        sub.put(mid.hash(), plus(sub.get(better.hash()), 1, 1)); // 0.1 worse, SE 0: beats the old parent p2, not the slot
        Racing.Decision d = Racing.decide(gen, 2, done, sub, 2.0);
        assertEquals(better.hash(), d.races().get(80.0).reference(), "second by subset loss of parents and children");
        assertEquals(Set.of(better.hash(), close.hash()), d.promoted());
        assertTrue(d.races().get(80.0).differences().get(mid.hash()).mean() < Racing.difference(sub.get(p2.hash()),
                sub.get(better.hash())).mean(), "mid is ahead of the worst old parent on the subset, yet cannot take a slot");
        assertFalse(d.races().get(80.0).differences().containsKey(p1.hash()), "fully evaluated configs are not raced");
        sub.put(p1.hash(), subset(0.95, 0.2, 1)); // the parent falls behind: the slot goes to close, mid stays out
        assertEquals(close.hash(), Racing.decide(gen, 2, done, sub, 2.0).races().get(80.0).reference());
        assertThrows(IllegalStateException.class, () -> Racing.decide(gen, 2, done, Map.of(), 2.0));
    }

    @Test
    void aBudgetRacesItsWholeParentPoolIncludingTighterBudgetsCandidates() {
        Candidate good = cand(1, Candidate.RANDOM), meh = cand(2, Candidate.RANDOM), bad = cand(4, Candidate.RANDOM);
        Candidate ok = new Candidate(Genetics.sample(space, new SplittableRandom(3)), Candidate.RANDOM, List.of(), 60);
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(50.0, List.of(good, meh), 80.0, List.of(ok, bad)));
        Map<String, Racing.Subset> sub = Map.of(good.hash(), subset(0.0, 0.2, 1), meh.hash(), subset(0.3, 0.2, 2),
                ok.hash(), subset(0.1, 0.2, 3), bad.hash(), subset(0.5, 0.2, 4));
        Racing.Decision d = Racing.decide(gen, 1, Set.of(), sub, 2.0);
        assertEquals(good.hash(), d.races().get(80.0).reference(), "budget 50's best fits 80 and holds its only parent slot");
        assertEquals(Set.of(good.hash(), ok.hash()), d.promoted(), "ok is clearly behind good, yet 80's own best: its winner race");
        assertTrue(d.races().get(80.0).differences().get(bad.hash()).mean() > 0, "bad loses both of 80's races");
        assertFalse(d.races().get(50.0).differences().containsKey(ok.hash()), "60 ms does not fit budget 50");
        sub = new HashMap<>(sub);
        sub.put(bad.hash(), subset(0.1, 0.2, 4)); // now level with ok: bad is promoted by the winner race only
        assertEquals(Set.of(good.hash(), ok.hash(), bad.hash()), Racing.decide(gen, 1, Set.of(), sub, 2.0).promoted());
    }

    @Test
    void finitePopulationStandardErrorShrinksAsTheSubsetNearsTheWholeSet() {
        Racing.Subset a = subset(0.1, 2, 1), b = subset(0.0, 2, 2);
        Racing.Difference unbounded = Racing.difference(a, b);
        assertEquals(unbounded, Racing.difference(a, b, 0));
        assertEquals(unbounded.mean(), Racing.difference(a, b, 80).mean(), 0);
        assertEquals(unbounded.se() * Math.sqrt(0.5), Racing.difference(a, b, 80).se(), 1e-12, "40 of 80 sentences");
        assertEquals(0, Racing.difference(a, b, 40).se(), 0, "the subset is the whole set: nothing left to estimate");
    }

    /** Rule 2 on a generation of budget 80 with two parents p1, p2 (fully evaluated) and p1's child c. */
    @Test
    void anchoredEstimatesRaceAChildThroughItsParentsFullSetLoss() {
        Candidate p1 = cand(1, Candidate.PARENT), p2 = cand(2, Candidate.PARENT);
        Candidate c = new Candidate(Genetics.sample(space, new SplittableRandom(3)), Candidate.MUTATION, List.of(p1.hash()), 10);
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(80.0, List.of(p1, p2, c)));
        Map<String, Double> fullLoss = Map.of(p1.hash(), 5.0, p2.hash(), 5.3);
        Map<String, Racing.Subset> sub = new HashMap<>();
        sub.put(p1.hash(), subset(0.0, 0.2, 1));
        sub.put(p2.hash(), subset(0.3, 30, 2)); // p2 differs from the others by much sentence noise
        sub.put(c.hash(), plus(sub.get(p1.hash()), 3.9, 4.1)); // 0.4 nats a token worse than its parent, on every sentence
        Racing.Params p = new Racing.Params(new double[] {0.1}, 16, 2, 0, 1, 2);
        // rule 1: c is 0.1 worse than the slot's holder p2 on the subset, but the paired SE against p2 is about 0.14
        Racing.Decision one = Racing.decide(gen, 2, fullLoss, sub, new Racing.Params(new double[] {0.1}, 16, 2, 0, 1, 1), 0, false);
        assertEquals(p2.hash(), one.races().get(80.0).reference());
        assertTrue(one.promoted().contains(c.hash()), "within 2 SE of p2 by the paired difference");
        // rule 2: L(c) - L(p2) = L(p1) - L(p2) + 0.4 = 0.1, with the SE of c - p1 per sentence (0.1 / 400 tokens)
        Racing.Decision two = Racing.decide(gen, 2, fullLoss, sub, p, 0, false);
        Racing.Difference d = two.races().get(80.0).differences().get(c.hash());
        assertEquals(5.0 - 5.3 + 0.4, d.mean(), 1e-9);
        assertEquals(Math.sqrt(40 * (40 * 0.01 / 39)) / 400, d.se(), 1e-9);
        assertEquals(Set.of(), two.promoted(), "clearly behind the slot's holder, and behind the budget's best row p1");
        // the direct paired difference stays an option: a child whose parent is not fully evaluated is raced as in rule 1
        Candidate orphan = new Candidate(c.config(), Candidate.MUTATION, List.of("not-evaluated"), 10);
        Map<Double, List<Candidate>> gen2 = new TreeMap<>(Map.of(80.0, List.of(p1, p2, orphan)));
        assertEquals(Set.of(c.hash()), Racing.decide(gen2, 2, fullLoss, sub, p, 0, false).promoted());
    }

    /**
     * Rule 3 (the default) on budget 80, 2 parent slots: fully evaluated p1 (5.0) and p2 (5.3), whose subset happens to
     * be 0.6 nats harder than p1's instead of 0.3; p1's child c, 0.4 worse than p1 on every sentence; and x, a crossover
     * of p1 and p2.
     */
    @Test
    void ruleThreeAnchorsOnTheParentsMeanAndRanksOnTheWholeSetsScale() {
        Candidate p1 = cand(1, Candidate.PARENT), p2 = cand(2, Candidate.PARENT);
        Candidate c = new Candidate(Genetics.sample(space, new SplittableRandom(3)), Candidate.MUTATION, List.of(p1.hash()), 10);
        Candidate x = new Candidate(Genetics.sample(space, new SplittableRandom(4)), Candidate.CROSSOVER,
                List.of(p1.hash(), p2.hash()), 10);
        Map<String, Double> fullLoss = Map.of(p1.hash(), 5.0, p2.hash(), 5.3);
        Map<String, Racing.Subset> sub = new HashMap<>();
        sub.put(p1.hash(), subset(0.0, 0.2, 1));
        sub.put(p2.hash(), subset(0.6, 0.2, 2));
        sub.put(c.hash(), plus(sub.get(p1.hash()), 3.9, 4.1));
        Racing.Params three = Racing.Params.DEFAULT;
        assertEquals(3, three.rule(), "the default rule");
        Racing.Params two = new Racing.Params(three.fractions(), 16, 2, 0, 1, 2);
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(80.0, List.of(p1, p2, c)));
        // rule 2 ranks by subset loss: c (0.4 behind p1) looks better than p2 (0.6 behind), takes the last slot, goes on
        Racing.Decision r2 = Racing.decide(gen, 2, fullLoss, sub, two, 0, false);
        assertEquals(c.hash(), r2.races().get(80.0).reference());
        assertEquals(Set.of(c.hash()), r2.promoted());
        // rule 3 ranks c at 5.0 + 0.4 = 5.4, behind p2's 5.3: p2 holds the slot and c, 0.1 behind it, is dropped
        Racing.Decision r3 = Racing.decide(gen, 2, fullLoss, sub, three, 0, false);
        assertEquals(p2.hash(), r3.races().get(80.0).reference());
        assertEquals(Set.of(), r3.promoted());
        Racing.Difference d = r3.races().get(80.0).differences().get(c.hash());
        assertEquals(5.0 - 5.3 + 0.4, d.mean(), 1e-9);
        assertEquals(Math.sqrt(40 * (40 * 0.01 / 39)) / 400, d.se(), 1e-9);
        // the crossover is anchored on its parents' mean: 0.2 behind it on the subset, so 5.15 + 0.2 = 5.35 on the whole
        // set, 0.05 behind p2, with the SE of its per-sentence differences to that mean
        double[] mean = new double[40];
        for (int i = 0; i < 40; i++) {
            mean[i] = (sub.get(p1.hash()).sentenceNll()[i] + sub.get(p2.hash()).sentenceNll()[i]) / 2;
        }
        sub.put(x.hash(), plus(new Racing.Subset(mean, 400), 1.5, 2.5));
        Map<Double, List<Candidate>> genX = new TreeMap<>(Map.of(80.0, List.of(p1, p2, x)));
        Racing.Decision rx = Racing.decide(genX, 2, fullLoss, sub, three, 80, false);
        Racing.Difference dx = rx.races().get(80.0).differences().get(x.hash());
        assertEquals(5.15 + 0.2 - 5.3, dx.mean(), 1e-9);
        assertEquals(Math.sqrt(40 * (40 * 0.25 / 39) * 0.5) / 400, dx.se(), 1e-9, "40 of 80 sentences scored");
        assertEquals(Set.of(), rx.promoted(), "0.05 behind by about 20 SE");
    }

    @Test
    void theLastGenerationRacesOnlyForEachBudgetsWinner() {
        Candidate p1 = cand(1, Candidate.PARENT), p2 = cand(2, Candidate.PARENT), c = cand(3, Candidate.MUTATION);
        Map<Double, List<Candidate>> gen = new TreeMap<>(Map.of(80.0, List.of(p1, p2, c)));
        Map<String, Double> fullLoss = Map.of(p1.hash(), 5.0, p2.hash(), 5.3);
        Map<String, Racing.Subset> sub = new HashMap<>();
        sub.put(p1.hash(), subset(0.0, 0.2, 1));
        sub.put(p2.hash(), subset(0.3, 0.2, 2));
        sub.put(c.hash(), plus(sub.get(p2.hash()), 0.9, 1.1)); // 0.1 behind p2 (the slot's holder), 0.4 behind p1
        Racing.Params p = new Racing.Params(new double[] {0.1}, 16, 2, 0, 1);
        assertEquals(Set.of(), Racing.decide(gen, 2, fullLoss, sub, p, 0, false).promoted());
        sub.put(c.hash(), plus(sub.get(p2.hash()), -1.5, -0.5)); // now 0.1 ahead of p2: it would take a slot
        assertEquals(Set.of(c.hash()), Racing.decide(gen, 2, fullLoss, sub, p, 0, false).promoted());
        Racing.Decision last = Racing.decide(gen, 2, fullLoss, sub, p, 0, true);
        assertEquals(Set.of(), last.promoted(), "no parents are picked after the last generation, and c cannot beat p1");
        assertEquals(p1.hash(), last.races().get(80.0).reference(), "the budget's best fully evaluated row");
        sub.put(c.hash(), plus(sub.get(p1.hash()), -0.5, -0.3)); // ahead of p1: it could win the budget
        assertEquals(Set.of(c.hash()), Racing.decide(gen, 2, fullLoss, sub, p, 0, true).promoted());
        // a one-generation sweep: nothing fully evaluated yet, so each budget's best by subset loss goes on
        Map<Double, List<Candidate>> first = new TreeMap<>(Map.of(80.0, List.of(cand(4, Candidate.RANDOM), c)));
        sub.put(first.get(80.0).get(0).hash(), subset(1.0, 0.2, 4));
        assertEquals(Set.of(c.hash()), Racing.decide(first, 2, Map.of(), sub, p, 0, true).promoted());
    }

    /**
     * A whole racing search on a toy loss: parents always come from fully evaluated configs, and fewer
     * full evaluations are spent than candidates proposed.
     */
    @Test
    void aRacedSearchPicksParentsOnlyFromFullyEvaluatedConfigs() {
        ToyLoss truth = new ToyLoss();
        Evolution evo = new Evolution(space, new SearchParams(16, 4, 6, 6, 0.3, 6, 7), c -> truth.ms(c));
        double[] budgets = {truth.ms(space.smallest()) + 20, truth.ms(space.smallest()) + 60};
        Set<String> full = new HashSet<>();
        Map<String, Double> fullLoss = new HashMap<>();
        Map<String, Racing.Subset> sub = new HashMap<>();
        Map<Double, List<Candidate>> current = Map.of();
        long proposed = 0;
        for (int g = 0; g < 6; g++) {
            Map<String, Double> known = new HashMap<>();
            full.forEach(h -> known.put(h, fullLoss.get(h)));
            Map<Double, List<Candidate>> next = Lockstep.advance(evo, current, budgets, g, false, known);
            for (List<Candidate> list : next.values()) {
                for (Candidate c : list) {
                    if (c.origin().equals(Candidate.PARENT)) {
                        assertTrue(full.contains(c.hash()), "generation " + g + ": parent " + c.hash() + " has a full-set loss");
                    }
                }
            }
            Map<String, ArchConfig> unique = Lockstep.unique(next);
            proposed += unique.keySet().stream().filter(h -> !full.contains(h)).count();
            for (String h : Racing.subsetNeeded(next)) {
                sub.computeIfAbsent(h, k -> truth.subset(unique.get(k)));
            }
            boolean last = g == 5;
            for (String h : Racing.decide(next, 4, known, sub, Racing.Params.DEFAULT, 0, last).promoted()) {
                fullLoss.put(h, truth.loss(unique.get(h)));
                full.add(h);
            }
            current = next;
        }
        assertTrue(full.size() < proposed, full.size() + " full evaluations of " + proposed + " proposed configs");
    }

    /** {@code s} with a added to even sentences and b to odd ones. */
    private static Racing.Subset plus(Racing.Subset s, double a, double b) {
        double[] v = s.sentenceNll().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] += i % 2 == 0 ? a : b;
        }
        return new Racing.Subset(v, s.tokens());
    }

    private static Set<String> hashes(List<Candidate> l) {
        Set<String> s = new java.util.LinkedHashSet<>();
        l.forEach(c -> s.add(c.hash()));
        return s;
    }

    /** Bigger is slower and better; the subset sees the same ordering plus sentence noise. */
    private static final class ToyLoss {
        double ms(ArchConfig c) {
            double ms = c.encoderEmbedDim() * c.encoderLayerNum() / 10.0;
            for (int i = 0; i < c.decoderLayerNum(); i++) {
                ms += c.decoderFfnEmbedDim(i) / 20.0;
            }
            return ms;
        }

        double loss(ArchConfig c) {
            return 6 - ms(c) / 100;
        }

        Racing.Subset subset(ArchConfig c) {
            return RacingTest.subset(loss(c) - 6, 0.3, c.hash().hashCode());
        }
    }
}
