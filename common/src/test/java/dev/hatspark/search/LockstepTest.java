package dev.hatspark.search;

import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LockstepTest {
    private final DesignSpace space = DesignSpace.builtin("demo");

    private Candidate cand(long seed, double ms) {
        return new Candidate(Genetics.sample(space, new java.util.SplittableRandom(seed)), Candidate.RANDOM, List.of(), ms);
    }

    @Test
    void aBudgetsParentPoolHoldsItsOwnPopulationAndWhatOtherBudgetsFoundWithinIt() {
        Candidate a = cand(1, 40), b = cand(2, 55), c = cand(3, 80), d = cand(4, 90);
        Map<Double, List<Candidate>> current = new TreeMap<>(Map.of(60.0, List.of(a, b), 100.0, List.of(c, d, a)));
        List<Candidate> pool60 = Lockstep.parentPool(current, 60.0);
        assertEquals(List.of(a.hash(), b.hash()), pool60.stream().map(Candidate::hash).toList(),
                "the looser budget's 80 and 90 ms candidates do not fit 60 ms; a is there once");
        List<Candidate> pool100 = Lockstep.parentPool(current, 100.0);
        assertEquals(List.of(c.hash(), d.hash(), a.hash(), b.hash()), pool100.stream().map(Candidate::hash).toList(),
                "own population first, then the tighter budget's b");
    }

    @Test
    void advanceGivesEveryBudgetAGenerationWithinItsBudgetAndUniqueDeduplicatesAcrossBudgets() {
        ToyPredictor p = new ToyPredictor();
        Evolution evo = new Evolution(space, new SearchParams(8, 3, 3, 2, 0.3, 3, 5), p);
        double[] budgets = p.budgets(space);
        Map<String, Double> losses = new HashMap<>();
        Map<Double, List<Candidate>> g0 = Lockstep.advance(evo, Map.of(), budgets, 0, false, losses);
        g0.values().forEach(l -> l.forEach(c -> losses.put(c.hash(), p.applyAsDouble(c.config()) / 100)));
        Map<Double, List<Candidate>> g1 = Lockstep.advance(evo, g0, budgets, 1, false, losses);
        for (double b : budgets) {
            assertEquals(8, g1.get(b).size());
            assertTrue(g1.get(b).stream().allMatch(c -> c.predictedMs() <= b), "every candidate fits its budget " + b);
        }
        int total = g1.values().stream().mapToInt(List::size).sum();
        assertTrue(Lockstep.unique(g1).size() <= total);
        assertEquals(Lockstep.advance(evo, g0, budgets, 1, false, losses).toString(), g1.toString(), "seeded: same again");
    }

    /** Latency grows with model size, so budgets between smallest and largest are feasible. */
    private static final class ToyPredictor implements java.util.function.ToDoubleFunction<dev.hatspark.space.ArchConfig> {
        @Override
        public double applyAsDouble(dev.hatspark.space.ArchConfig c) {
            double ms = c.encoderEmbedDim() * c.encoderLayerNum() / 10.0;
            for (int i = 0; i < c.decoderLayerNum(); i++) {
                ms += c.decoderFfnEmbedDim(i) / 20.0;
            }
            return ms;
        }

        double[] budgets(DesignSpace s) {
            double lo = applyAsDouble(s.smallest());
            double hi = applyAsDouble(s.largest());
            return new double[] {lo + (hi - lo) * 0.4, lo + (hi - lo) * 0.8};
        }
    }
}
