package dev.hatspark.search;

import dev.hatspark.util.BadInputException;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * HAT's evolutionary search for one latency budget, one generation at a time, free of Spark and of
 * evaluation: {@link #initial} and {@link #next} propose populations, the caller evaluates them.
 * Every candidate satisfies the budget by the predictor (resampled until it does); a population
 * holds no config twice; parents (the best so far) carry over, so the best loss never rises.
 * Each generation's randomness is a function of (seed, generation, parents): a sweep resumed from a
 * finished generation proposes exactly what the uninterrupted sweep would, and budgets with the same
 * parents propose the same children (the budget only decides which of them fit).
 */
public final class Evolution {
    /** Proposals tried per candidate before the budget is declared infeasible in practice. */
    static final int MAX_TRIES = 10_000;

    private final DesignSpace space;
    private final SearchParams params;
    private final ToDoubleFunction<ArchConfig> predictor;

    public Evolution(DesignSpace space, SearchParams params, ToDoubleFunction<ArchConfig> predictor) {
        this.space = space;
        this.params = params;
        this.predictor = predictor;
    }

    /** The RNG of one generation of one budget. */
    public SplittableRandom rng(double budgetMs, int generation) {
        long h = params.seed() * 0x9E3779B97F4A7C15L + Double.hashCode(budgetMs) * 1_000_003L + generation;
        return new SplittableRandom(h);
    }

    /**
     * Fails with a clear message when no config fits the budget: neither the smallest SubTransformer
     * nor any of a few thousand random ones (a learned predictor need not be monotone in size).
     */
    public void checkFeasible(double budgetMs) {
        double smallest = predictor.applyAsDouble(space.smallest());
        if (smallest <= budgetMs) {
            return;
        }
        SplittableRandom rng = rng(budgetMs, -1);
        for (int i = 0; i < 2000; i++) {
            if (predictor.applyAsDouble(Genetics.sample(space, rng)) <= budgetMs) {
                return;
            }
        }
        throw new BadInputException("latency budget " + budgetMs + " ms is infeasible in design space '"
                + space.name + "': its smallest SubTransformer is predicted at " + String.format("%.1f", smallest)
                + " ms and no sampled config is under the budget");
    }

    /**
     * Generation 0 (and every generation of random search): distinct random configs within the budget.
     * All budgets read one random stream per generation and keep the configs that fit, so a config
     * that fits several budgets is proposed to each of them and evaluated once.
     */
    public List<Candidate> initial(double budgetMs, int generation) {
        checkFeasible(budgetMs);
        SplittableRandom rng = rng(Double.NaN, generation);
        List<Candidate> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        while (out.size() < params.population()) {
            out.add(feasible(budgetMs, seen, () -> new Candidate(Genetics.sample(space, rng), Candidate.RANDOM, List.of(), 0)));
        }
        return out;
    }

    /**
     * The next generation: the best {@code parents} of {@code population} by validation loss (ties by
     * hash, so the order is total), then children by mutation and by crossover of random parents.
     */
    public List<Candidate> next(List<Candidate> population, Map<String, Double> loss, double budgetMs, int generation) {
        List<Candidate> ranked = new ArrayList<>(population);
        for (Candidate c : ranked) {
            if (!loss.containsKey(c.hash())) {
                throw new IllegalStateException("candidate " + c.hash() + " of the previous generation has no validation loss");
            }
        }
        ranked.sort(Comparator.comparingDouble((Candidate c) -> loss.get(c.hash())).thenComparing(Candidate::hash));
        List<Candidate> parents = ranked.subList(0, Math.min(params.parents(), ranked.size()));
        List<Candidate> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Candidate p : parents) {
            out.add(new Candidate(p.config(), Candidate.PARENT, List.of(p.hash()), p.predictedMs()));
            seen.add(p.hash());
        }
        // Mutation children go round-robin over the parents, and the k-th child of a parent comes from
        // an RNG seeded by (seed, generation, parent, k), not by the budget: budgets that share a
        // parent propose the same children, which are then evaluated once for all of them.
        int[] childrenOf = new int[parents.size()];
        for (int i = 0; i < params.mutations(); i++) {
            int slot = i;
            int[] tries = {0};
            out.add(feasible(budgetMs, seen, () -> {
                // a parent whose neighbourhood is used up (or over budget) hands the slot to the next one
                int pi = (slot + tries[0]++ / 50) % parents.size();
                Candidate p = parents.get(pi);
                SplittableRandom childRng = childRng(generation, p.hash().hashCode() * 31L + childrenOf[pi]++);
                return new Candidate(Genetics.mutate(space, p.config(), params.mutationProb(), childRng), Candidate.MUTATION,
                        List.of(p.hash()), 0);
            }));
        }
        // Each crossover slot reads its own RNG, seeded by (seed, generation, slot), not by the budget: budgets
        // with the same ranked parents draw the same pairs and genes, so they too share children.
        for (int i = 0; i < params.crossovers(); i++) {
            SplittableRandom rng = childRng(generation, 0x5DEECE66DL * (i + 1));
            int[] tries = {0};
            out.add(feasible(budgetMs, seen, () -> {
                Candidate a = parents.get(rng.nextInt(parents.size()));
                Candidate b = parents.get(rng.nextInt(parents.size()));
                ArchConfig child = Genetics.crossover(space, a.config(), b.config(), rng);
                // parents that have converged can only recombine into configs the population holds:
                // then the child is mutated as well, so the slot still gets a new config
                if (tries[0]++ >= 100) {
                    child = Genetics.mutate(space, child, params.mutationProb(), rng);
                }
                return new Candidate(child, Candidate.CROSSOVER, List.of(a.hash(), b.hash()), 0);
            }));
        }
        return out;
    }

    /** A budget-independent RNG of children in a generation: {@code key} names the parent's k-th child or the crossover slot. */
    private SplittableRandom childRng(int generation, long key) {
        return new SplittableRandom(params.seed() * 0x9E3779B97F4A7C15L + generation * 1_000_003L + key);
    }

    /** Proposes until a new config within the budget comes up; records its predicted latency. */
    private Candidate feasible(double budgetMs, Set<String> seen, java.util.function.Supplier<Candidate> propose) {
        int duplicates = 0;
        double lowest = Double.POSITIVE_INFINITY;
        for (int t = 0; t < MAX_TRIES; t++) {
            Candidate c = propose.get();
            if (seen.contains(c.hash())) {
                duplicates++;
                continue;
            }
            double ms = predictor.applyAsDouble(c.config());
            if (ms <= budgetMs) {
                seen.add(c.hash());
                return new Candidate(c.config(), c.origin(), c.parentHashes(), ms);
            }
            lowest = Math.min(lowest, ms);
        }
        throw new IllegalStateException("latency budget " + budgetMs + " ms: no new config within the budget after "
                + MAX_TRIES + " proposals in design space '" + space.name + "' (" + duplicates + " repeated a config"
                + " already in the population; the fastest new one was predicted at " + String.format("%.1f", lowest)
                + " ms); raise the budget or shrink the population");
    }
}
