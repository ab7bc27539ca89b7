package dev.hatspark.search;

import dev.hatspark.space.ArchConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sweep's generation step for many latency budgets at once (pure logic; the Spark job around it
 * evaluates and commits). Budgets advance in lockstep so that one Spark job evaluates a generation of
 * every budget, and they share what they found through {@link #parentPool}.
 */
public final class Lockstep {
    private Lockstep() {
    }

    /**
     * The next generation of every budget: random populations in generation 0 (and always for random
     * search), otherwise HAT's evolution from {@link #parentPool}, ranked by the full-set losses known so
     * far ({@code losses} must hold full-set losses only).
     */
    public static Map<Double, List<Candidate>> advance(Evolution evo, Map<Double, List<Candidate>> current, double[] budgets,
                                                       int generation, boolean random, Map<String, Double> losses) {
        Map<Double, List<Candidate>> next = new TreeMap<>();
        for (double b : budgets) {
            next.put(b, generation == 0 || random ? evo.initial(b, generation)
                    : evo.next(parents(parentPool(current, b), losses), losses, b, generation));
        }
        return next;
    }

    /**
     * The candidates budget b may pick parents from: its own last population plus every candidate of
     * the other budgets that also fits b. Budgets thus share what they found (the best of a tighter
     * budget is a parent of looser ones), and budgets with shared parents propose shared children.
     */
    public static List<Candidate> parentPool(Map<Double, List<Candidate>> current, double budget) {
        Map<String, Candidate> pool = new LinkedHashMap<>();
        current.get(budget).forEach(c -> pool.put(c.hash(), c));
        current.forEach((b, list) -> list.stream().filter(c -> c.predictedMs() <= budget)
                .forEach(c -> pool.putIfAbsent(c.hash(), c)));
        return new ArrayList<>(pool.values());
    }

    /**
     * The pool's members with a full-set loss in {@code losses}: with racing, a candidate that lost its
     * race has a subset loss only and can never become a parent. Without racing every member has one.
     */
    static List<Candidate> parents(List<Candidate> pool, Map<String, Double> losses) {
        return pool.stream().filter(c -> losses.containsKey(c.hash())).toList();
    }

    /** Distinct configs of a generation over all budgets, in order of first appearance. */
    public static Map<String, ArchConfig> unique(Map<Double, List<Candidate>> generation) {
        Map<String, ArchConfig> unique = new LinkedHashMap<>();
        generation.values().forEach(list -> list.forEach(c -> unique.putIfAbsent(c.hash(), c.config())));
        return unique;
    }
}
