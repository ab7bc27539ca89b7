package dev.hatspark.search;

import dev.hatspark.model.Flops;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.*;

class EvolutionTest {
    static final DesignSpace DEMO = DesignSpace.builtin("demo");
    /** A stand-in latency model: proportional to the decoder's incremental FLOPs (ms). */
    static final ToDoubleFunction<ArchConfig> LATENCY = c -> Flops.incrementalDecoder(c, 128, 8000, 30, 5, 30) / 1e8;
    /** A stand-in fitness: bigger models have lower loss, with a config-specific wiggle. */
    static double loss(ArchConfig c) {
        return 10 - Math.log(Flops.forward(c, 128, 8000, 1, 30, 30)) + (c.hash().hashCode() % 1000) / 5000.0;
    }

    static SearchParams small(long seed) {
        return new SearchParams(40, 8, 16, 16, 0.3, 8, seed);
    }

    static List<List<Candidate>> run(SearchParams p, double budget) {
        Evolution evo = new Evolution(DEMO, p, LATENCY);
        List<List<Candidate>> gens = new java.util.ArrayList<>();
        List<Candidate> pop = evo.initial(budget, 0);
        gens.add(pop);
        for (int g = 1; g < p.generations(); g++) {
            Map<String, Double> l = new HashMap<>();
            pop.forEach(c -> l.put(c.hash(), loss(c.config())));
            pop = evo.next(pop, l, budget, g);
            gens.add(pop);
        }
        return gens;
    }

    @Test
    void everyCandidateMeetsTheBudgetAndPopulationsHaveNoDuplicates() {
        double lo = LATENCY.applyAsDouble(DEMO.smallest());
        double hi = LATENCY.applyAsDouble(DEMO.largest());
        for (double budget : new double[] {lo + 0.25 * (hi - lo), lo + 0.5 * (hi - lo), hi}) {
            for (List<Candidate> pop : run(small(1), budget)) {
                assertEquals(40, pop.size());
                assertEquals(40, new HashSet<>(pop.stream().map(Candidate::hash).toList()).size(), "no duplicates");
                for (Candidate c : pop) {
                    assertTrue(c.predictedMs() <= budget, c + " over budget " + budget);
                    assertEquals(LATENCY.applyAsDouble(c.config()), c.predictedMs(), 1e-9);
                    c.config().validate(DEMO);
                }
            }
        }
    }

    @Test
    void bestLossNeverRisesAndImproves() {
        double lo = LATENCY.applyAsDouble(DEMO.smallest());
        double hi = LATENCY.applyAsDouble(DEMO.largest());
        double best = Double.MAX_VALUE;
        double first = 0;
        List<List<Candidate>> gens = run(small(2), lo + 0.5 * (hi - lo));
        for (int g = 0; g < gens.size(); g++) {
            double genBest = gens.get(g).stream().mapToDouble(c -> loss(c.config())).min().orElseThrow();
            if (g == 0) {
                first = genBest;
            } else {
                assertTrue(genBest <= best, "generation " + g + " best " + genBest + " > previous " + best);
            }
            best = Math.min(best, genBest);
        }
        assertTrue(best < first, "evolution finds better configs than the random start");
        List<Candidate> last = gens.get(gens.size() - 1);
        assertEquals(8, last.stream().filter(c -> c.origin().equals(Candidate.PARENT)).count());
        assertTrue(last.stream().anyMatch(c -> c.origin().equals(Candidate.CROSSOVER) && c.parentHashes().size() == 2));
    }

    @Test
    void budgetsWithTheSameParentsProposeTheSameChildren() {
        double hi = LATENCY.applyAsDouble(DEMO.largest());
        Evolution evo = new Evolution(DEMO, small(5), LATENCY);
        List<Candidate> pop = evo.initial(hi, 0);
        Map<String, Double> l = new HashMap<>();
        pop.forEach(c -> l.put(c.hash(), loss(c.config())));
        // both budgets fit every config, so they rank the same parents; only the budget differs
        List<Candidate> a = evo.next(pop, l, hi, 1);
        List<Candidate> b = evo.next(pop, l, 2 * hi, 1);
        assertEquals(hashes(List.of(a)), hashes(List.of(b)));
        assertEquals(16, a.stream().filter(c -> c.origin().equals(Candidate.CROSSOVER)).count());
        // and the children still differ from one generation to the next
        assertNotEquals(hashes(List.of(a.subList(8, 40))), hashes(List.of(evo.next(pop, l, hi, 2).subList(8, 40))));
    }

    @Test
    void sameSeedSameSearchAndResumeFromAGenerationMatches() {
        double budget = LATENCY.applyAsDouble(DEMO.largest()) * 0.6;
        List<List<Candidate>> a = run(small(3), budget);
        List<List<Candidate>> b = run(small(3), budget);
        assertEquals(hashes(a), hashes(b));
        assertNotEquals(hashes(a), hashes(run(small(4), budget)));
        // "resume": rebuild generation 4 from stored JSON and continue: generation 5 is identical
        Evolution evo = new Evolution(DEMO, small(3), LATENCY);
        List<Candidate> stored = a.get(4).stream().map(c -> new Candidate(ArchConfig.fromJson(c.config().toJson()),
                c.origin(), c.parentHashes(), c.predictedMs())).toList();
        Map<String, Double> l = new HashMap<>();
        stored.forEach(c -> l.put(c.hash(), loss(c.config())));
        assertEquals(a.get(5).stream().map(Candidate::hash).toList(),
                evo.next(stored, l, budget, 5).stream().map(Candidate::hash).toList());
    }

    @Test
    void tightBudgetsStillFillEveryGeneration() {
        SplittableRandom rng = new SplittableRandom(7);
        double[] ms = java.util.stream.IntStream.range(0, 1000)
                .mapToDouble(i -> LATENCY.applyAsDouble(dev.hatspark.space.Genetics.sample(DEMO, rng))).sorted().toArray();
        for (double budget : new double[] {ms[20], ms[100]}) {
            List<List<Candidate>> gens = run(new SearchParams(16, 4, 6, 6, 0.3, 12, 5), budget);
            assertEquals(12, gens.size());
            gens.forEach(p -> assertEquals(16, p.size()));
        }
    }

    @Test
    void convergedParentsStillYieldNewChildren() {
        // four parents that differ in one decoder head only: crossover alone can make nothing new
        ArchConfig base = DEMO.smallest();
        List<Candidate> pop = new java.util.ArrayList<>();
        Map<String, Double> l = new HashMap<>();
        for (String h : List.of("[2]", "[4]")) {
            ArchConfig c = ArchConfig.fromJson(base.toJson().replace("\"decoder_self_attention_heads\":[2]",
                    "\"decoder_self_attention_heads\":" + h));
            pop.add(new Candidate(c, Candidate.RANDOM, List.of(), LATENCY.applyAsDouble(c)));
            l.put(c.hash(), h.equals("[2]") ? 1.0 : 2.0);
        }
        Evolution evo = new Evolution(DEMO, new SearchParams(12, 2, 0, 10, 0.3, 2, 1), LATENCY);
        List<Candidate> next = evo.next(pop, l, LATENCY.applyAsDouble(DEMO.largest()), 1);
        assertEquals(12, new HashSet<>(next.stream().map(Candidate::hash).toList()).size());
    }

    @Test
    void infeasibleBudgetIsAClearError() {
        Evolution evo = new Evolution(DEMO, small(1), LATENCY);
        var e = assertThrows(IllegalArgumentException.class, () -> evo.initial(0.001, 0));
        assertTrue(e.getMessage().contains("latency budget 0.001 ms is infeasible") && e.getMessage().contains("smallest"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SearchParams(10, 2, 3, 3, 0.3, 5, 1));
    }

    static List<List<String>> hashes(List<List<Candidate>> gens) {
        return gens.stream().map(p -> p.stream().map(Candidate::hash).toList()).toList();
    }
}
