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

    /**
     * A search's shape: {@code generations} generations of {@code full} full-set evaluations and
     * {@code subset} racing-subset ones (at {@code subsetFraction} of the validation set, a separate
     * Spark job before the full one) each.
     */
    public record Mode(String name, int generations, double full, double subset, double subsetFraction, double overheadS) {
        public double evaluations() {
            return generations * (full + subset);
        }

        public double targetTokenSets() {
            return generations * (full + subset * subsetFraction);
        }
    }

    /** One projected row: compute in core-hours, and wall hours per cluster size (executors × cores). */
    public record Row(Mode mode, double computeHours, double[] wallHours) {
    }

    /**
     * Compute: every evaluation at the fitted cost of an average config. Wall per generation and job:
     * the job's compute spread over all cores, but never less than one evaluation of the largest config
     * (a task cannot be split); plus the measured Spark overhead per generation.
     */
    public static Row project(Mode m, Fit fit, Workload w, int[] executors, int cores) {
        double fullMs = fit.ms(w.gflopMean(), w.batches());
        double fullMaxMs = fit.ms(w.gflopLargest(), w.batches());
        double sf = m.subsetFraction();
        double subMs = fit.ms(w.gflopMean() * sf, Math.ceil(w.batches() * sf));
        double subMaxMs = fit.ms(w.gflopLargest() * sf, Math.ceil(w.batches() * sf));
        double genComputeMs = m.full() * fullMs + m.subset() * subMs;
        double computeH = m.generations() * genComputeMs / 3.6e6;
        double[] wall = new double[executors.length];
        for (int i = 0; i < executors.length; i++) {
            int slots = executors[i] * cores;
            double genMs = job(m.full(), fullMs, fullMaxMs, slots) + job(m.subset(), subMs, subMaxMs, slots)
                    + m.overheadS() * 1000;
            wall[i] = m.generations() * genMs / 3.6e6;
        }
        return new Row(m, computeH, wall);
    }

    private static double job(double count, double meanMs, double maxMs, int slots) {
        return count <= 0 ? 0 : Math.max(count * meanMs / slots, maxMs);
    }

    /**
     * The four modes of a {@code budgets}-budget search with HAT's parameters: {@code budgets} separate
     * sweeps side by side on the cluster, as HAT (every population member scored in every generation, no
     * cache) or with the evaluation cache (parents carried over are not re-scored); one lockstep sweep ({@code lockstepRatio} of the separate
     * sweeps' evaluations), and lockstep with racing ({@code racingTokenRatio} of its target tokens,
     * of which {@code subsetFraction} is every config's subset score and the rest full evaluations).
     */
    public static List<Mode> modes(int budgets, int population, int parents, int generations, double lockstepRatio,
                                   double racingTokenRatio, double subsetFraction, double overheadOffS, double overheadOnS) {
        List<Mode> out = new ArrayList<>();
        out.add(new Mode("HAT: " + budgets + " sweeps, no cache", generations, budgets * population, 0, 0, overheadOffS));
        double cached = budgets * (population + (generations - 1.0) * (population - parents)) / generations;
        out.add(new Mode(budgets + " sweeps, cache, racing off", generations, cached, 0, 0, overheadOffS));
        double lock = cached * lockstepRatio;
        out.add(new Mode("lockstep, racing off", generations, lock, 0, 0, overheadOffS));
        out.add(new Mode("lockstep, racing k = 2", generations, lock * (racingTokenRatio - subsetFraction), lock,
                subsetFraction, overheadOnS));
        return out;
    }
}
