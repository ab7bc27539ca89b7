package dev.hatspark.jobs.bench;

import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;
import org.apache.commons.math3.stat.regression.SimpleRegression;

import java.util.ArrayList;
import java.util.List;

/**
 * bench-cost's arithmetic: the least-squares evaluation cost model and the projection of a sweep's
 * wall time onto a cluster. Pure functions, no Spark, no timing.
 */
public final class CostModel {
    private CostModel() {
    }

    /** {@code ms = a · GFLOP + b · batches + c}, its R² and the number of observations. */
    public record Fit(double a, double b, double c, double r2, int n) {
        public double ms(double gflop, double batches) {
            return a * gflop + b * batches + c;
        }
    }

    /**
     * Ordinary least squares of ms on forward GFLOP and batch count, with an intercept; with one batch
     * count only (one validation-set size) the batch term cannot be told from the intercept: b = 0.
     */
    public static Fit fit(double[] gflop, double[] batches, double[] ms) {
        if (java.util.Arrays.stream(batches).distinct().count() == 1) {
            SimpleRegression r = new SimpleRegression();
            for (int i = 0; i < ms.length; i++) {
                r.addData(gflop[i], ms[i]);
            }
            return new Fit(r.getSlope(), 0, r.getIntercept(), r.getRSquare(), ms.length);
        }
        double[][] x = new double[ms.length][];
        for (int i = 0; i < ms.length; i++) {
            x[i] = new double[]{gflop[i], batches[i]};
        }
        OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
        ols.newSampleData(ms, x);
        double[] beta = ols.estimateRegressionParameters(); // intercept first
        return new Fit(beta[1], beta[2], beta[0], ols.calculateRSquared(), ms.length);
    }

    /**
     * The workload of one full evaluation on the projected validation set: forward GFLOP of an average
     * and of the largest config, and its batch count.
     */
    public record Workload(double gflopMean, double gflopLargest, double batches) {
    }

    /** One Spark job of every generation: {@code count} evaluations, each on {@code fraction} of the validation set. */
    public record Job(double count, double fraction) {
    }

    /**
     * A search's shape: {@code generations} generations of the same jobs (without racing one, of full-set
     * evaluations; with racing one per stage on the sentences it adds, then the rest of the set for the configs
     * promoted through every stage).
     */
    public record Mode(String name, int generations, List<Job> jobs, double overheadS) {
        public double evaluations() {
            return generations * jobs.stream().mapToDouble(Job::count).sum();
        }

        /** Target tokens evaluated, in whole validation sets. */
        public double targetTokenSets() {
            return generations * jobs.stream().mapToDouble(j -> j.count() * j.fraction()).sum();
        }
    }

    /**
     * One projected row: compute in core-hours, and wall hours per cluster size (executors × cores) with each
     * evaluation's batches split across tasks as the sweep does ({@code wallHours}) and with one task per
     * evaluation ({@code wholeWallHours}).
     */
    public record Row(Mode mode, double computeHours, double[] wallHours, double[] wholeWallHours) {
    }

    /**
     * Compute: every evaluation at the fitted cost of an average config. Wall per generation and job: the job's
     * compute spread over all cores, but never less than its largest task, plus the measured Spark overhead
     * per generation. Split, the largest task is the largest config's evaluation cut into as many pieces as
     * bring it to an even share of the job per core, at most one per batch (the sweep's rule,
     * {@code Evaluations.shards}); whole, it is that evaluation in one piece.
     */
    public static Row project(Mode m, Fit fit, Workload w, int[] executors, int cores) {
        double genComputeMs = 0;
        for (Job j : m.jobs()) {
            genComputeMs += j.count() * fit.ms(w.gflopMean() * j.fraction(), batches(w, j));
        }
        double[] wall = new double[executors.length];
        double[] whole = new double[executors.length];
        for (int i = 0; i < executors.length; i++) {
            int slots = executors[i] * cores;
            double split = m.overheadS() * 1000;
            double one = m.overheadS() * 1000;
            for (Job j : m.jobs()) {
                if (j.count() <= 0) {
                    continue;
                }
                double nb = batches(w, j);
                double perSlot = j.count() * fit.ms(w.gflopMean() * j.fraction(), nb) / slots;
                double largest = fit.ms(w.gflopLargest() * j.fraction(), nb);
                double pieces = Math.max(1, Math.min(nb, Math.ceil(largest / perSlot - 1e-9)));
                split += Math.max(perSlot, fit.ms(w.gflopLargest() * j.fraction() / pieces, nb / pieces));
                one += Math.max(perSlot, largest);
            }
            wall[i] = m.generations() * split / 3.6e6;
            whole[i] = m.generations() * one / 3.6e6;
        }
        return new Row(m, m.generations() * genComputeMs / 3.6e6, wall, whole);
    }

    private static double batches(Workload w, Job j) {
        return Math.ceil(w.batches() * j.fraction() - 1e-9);
    }

    /**
     * The four modes of a {@code budgets}-budget search with HAT's parameters: {@code budgets} separate
     * sweeps side by side on the cluster, as HAT (every population member scored in every generation, no
     * cache) or with the evaluation cache (parents carried over are not re-scored); one lockstep sweep
     * ({@code lockstepRatio} of the separate sweeps' evaluations), and lockstep with racing in stages: every
     * config lockstep evaluates is scored on the first stage's share of the set ({@code stageEnds[0]}), the share
     * {@code reach[s-1]} of them on what stage s adds up to {@code stageEnds[s]}, and the share {@code reach[last]}
     * on the rest.
     */
    public static List<Mode> modes(int budgets, int population, int parents, int generations, double lockstepRatio,
                                   double[] stageEnds, double[] reach, double overheadOffS, double overheadOnS) {
        if (reach.length != stageEnds.length) {
            throw new IllegalArgumentException("racing reach: expected one share per stage after the first and one for the"
                    + " rest (" + stageEnds.length + " values), got " + reach.length);
        }
        List<Mode> out = new ArrayList<>();
        out.add(new Mode("HAT: " + budgets + " sweeps, no cache", generations, List.of(new Job(budgets * population, 1)),
                overheadOffS));
        double cached = budgets * (population + (generations - 1.0) * (population - parents)) / generations;
        out.add(new Mode(budgets + " sweeps, cache, racing off", generations, List.of(new Job(cached, 1)), overheadOffS));
        double lock = cached * lockstepRatio;
        out.add(new Mode("lockstep, racing off", generations, List.of(new Job(lock, 1)), overheadOffS));
        List<Job> raced = new ArrayList<>();
        raced.add(new Job(lock, stageEnds[0]));
        for (int s = 1; s <= stageEnds.length; s++) {
            double end = s < stageEnds.length ? stageEnds[s] : 1;
            raced.add(new Job(lock * reach[s - 1], end - stageEnds[s - 1]));
        }
        out.add(new Mode("lockstep, racing in " + stageEnds.length + " stages", generations, raced, overheadOnS));
        return out;
    }
}
