package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The interleaved measurement schedule and its bookkeeping, pure so that every measuring path
 * (measure-latency's tasks, hat-measure, evaluate) labels configs the same way.
 *
 * <p>Configs are timed in {@code passes} passes, each in its own seeded shuffled order, so a burst
 * of load or a slow drift lands on different configs in each pass instead of on all runs of one.
 * A fixed reference config is timed at the start, after every {@code referenceEvery} configs and at
 * the end; each config timing is divided by the reference latency interpolated at its position and
 * multiplied by an anchor (the reference latency of the hardware's first run), so labels of runs
 * made at different machine speeds stay comparable. A config's label is the median of its passes.
 */
public final class Schedule {
    private Schedule() {
    }

    /** How one pass's timed runs become one number (per part: encoder, decoder). */
    public enum Statistic {
        /** HAT's: the mean without the fastest and slowest 10 % (kept for comparison with HAT's data). */
        TRIMMED_MEAN("trimmed-mean"),
        MEDIAN("median"),
        /** A low percentile: interference only ever adds time, so the fast runs are the machine's own. */
        P25("p25");

        public final String label;

        Statistic(String label) {
            this.label = label;
        }

        public double of(LatencyProtocol.Stats s) {
            return switch (this) {
                case TRIMMED_MEAN -> s.trimmedMean();
                case MEDIAN -> s.median();
                case P25 -> s.p25();
            };
        }

        public double of(LatencyProtocol.Timing t) {
            return of(t.encoder()) + of(t.decoder());
        }

        public static Statistic parse(String s) {
            for (Statistic v : values()) {
                if (v.label.equals(s.toLowerCase(Locale.ROOT))) {
                    return v;
                }
            }
            throw new BadInputException("--statistic must be one of trimmed-mean, median, p25; got '" + s + "'");
        }
    }

    /** One timing of the schedule: a config in a pass, or the reference ({@code pass} -1). */
    public record Slot(int position, int pass, String key, boolean reference) implements Serializable {
    }

    /**
     * A slot as timed, with what disturbed it (see {@link Disturbance}); {@code paired} when each of the
     * config's runs followed a run of the reference ({@link LatencyProtocol#measurePaired}), else null.
     */
    public record Timed(Slot slot, LatencyProtocol.Timing timing, Disturbance disturbance, LatencyProtocol.Paired paired)
            implements Serializable {
        public Timed(Slot slot, LatencyProtocol.Timing timing, Disturbance disturbance) {
            this(slot, timing, disturbance, null);
        }
    }

    /** What a paired pass's label is: the anchor times the median over runs of config / reference. */
    public static final String PAIRED_MEDIAN = "paired-median";

    /**
     * The order of timings: {@code passes} seeded shuffles of {@code keys} (no config timed twice in a
     * row across a pass boundary), the reference first, after every {@code referenceEvery} configs and
     * last; {@code referenceEvery} 0 times no reference.
     */
    public static List<Slot> plan(List<String> keys, String referenceKey, int passes, int referenceEvery, long seed) {
        check(passes, referenceEvery);
        if (keys.stream().distinct().count() != keys.size()) {
            throw new IllegalArgumentException("schedule keys must be distinct");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        List<Slot> out = new ArrayList<>();
        boolean ref = referenceEvery > 0 && !keys.isEmpty();
        if (ref) {
            out.add(new Slot(0, -1, referenceKey, true));
        }
        String last = null;
        int sinceRef = 0;
        for (int p = 0; p < passes; p++) {
            List<String> order = new ArrayList<>(keys);
            for (int i = order.size() - 1; i > 0; i--) { // Fisher-Yates on the seeded stream
                java.util.Collections.swap(order, i, rng.nextInt(i + 1));
            }
            if (order.size() > 1 && order.get(0).equals(last)) {
                java.util.Collections.swap(order, 0, 1 + rng.nextInt(order.size() - 1));
            }
            for (String k : order) {
                out.add(new Slot(out.size(), p, k, false));
                last = k;
                if (ref && ++sinceRef == referenceEvery) {
                    out.add(new Slot(out.size(), -1, referenceKey, true));
                    sinceRef = 0;
                }
            }
        }
        if (ref && !out.get(out.size() - 1).reference()) {
            out.add(new Slot(out.size(), -1, referenceKey, true));
        }
        return out;
    }

    /** Bad protocol options end the job with one line. */
    public static void check(int passes, int referenceEvery) {
        if (passes < 1) {
            throw new BadInputException("--passes must be at least 1 (configs timed in that many interleaved passes), got " + passes);
        }
        if (referenceEvery < 0) {
            throw new BadInputException("--reference-every must be 0 (no reference) or a positive number of configs, got "
                    + referenceEvery);
        }
    }

    /**
     * A config's label. {@code encoderMs + decoderMs} is the reference-normalized latency under the
     * run's statistic (median over passes); {@code rawMs} the same without normalization;
     * {@code trimmedMeanMs} HAT's statistic, raw, averaged over passes. {@code normalized[s][p]} and
     * {@code raw[p]} are the per-pass values behind the retest error.
     */
    public record Label(String key, int passes, double encoderMs, double decoderMs, double rawMs, double trimmedMeanMs,
                        Double referenceMs, Double anchorMs, Double cpuSteal, Double loadAvg, boolean concurrent,
                        double[][] normalized, double[] raw, String statistic, List<LatencyProtocol.Timing> timings)
            implements Serializable {
        public double latencyMs() {
            return encoderMs + decoderMs;
        }
    }

    /**
     * A run's (or chunk's) noise: retest error (relative RMSE between passes of the same configs) of
     * the labels' statistic, normalized and raw, and of each statistic; the reference's drift (linear
     * fit over the run, end minus start relative to its mean); null where not defined (one pass, no
     * reference).
     */
    public record Summary(int configs, int passes, String statistic, Double referenceMs, Double anchorMs,
                          Double retestError, Double retestErrorRaw, Map<String, Double> retestByStatistic,
                          Double referenceDrift, Double cpuSteal, Double loadAvg) implements Serializable {
    }

    public record Result(List<Label> labels, Summary summary) implements Serializable {
    }

    /**
     * Labels the configs of one timed schedule (in timing order). {@code anchorMs} null anchors on
     * this schedule's own reference (median of its timings).
     */
    public static Result label(List<Timed> timed, Statistic statistic, Double anchorMs) {
        List<Timed> refs = timed.stream().filter(t -> t.slot().reference()).toList();
        List<Timed> paired = timed.stream().filter(t -> t.paired() != null).toList();
        // the reference's latency in this schedule: of its own slots, else of the runs paired with the configs
        Double referenceMs = !refs.isEmpty() ? Double.valueOf(median(refs.stream().mapToDouble(t -> statistic.of(t.timing())).toArray()))
                : !paired.isEmpty() ? Double.valueOf(median(paired.stream().mapToDouble(t -> statistic.of(t.paired().reference())).toArray()))
                : null;
        Double anchor = referenceMs == null ? null : anchorMs != null ? anchorMs : referenceMs;
        Map<String, List<Timed>> byKey = new LinkedHashMap<>();
        Map<Timed, Double> local = new java.util.IdentityHashMap<>();
        for (Timed t : timed) {
            if (!t.slot().reference()) {
                byKey.computeIfAbsent(t.slot().key(), k -> new ArrayList<>()).add(t);
                if (!refs.isEmpty()) {
                    local.put(t, referenceAt(refs, t.slot().position(), statistic));
                }
            }
        }
        Statistic[] all = Statistic.values();
        List<Label> labels = new ArrayList<>();
        for (Map.Entry<String, List<Timed>> e : byKey.entrySet()) {
            List<Timed> ps = e.getValue();
            int n = ps.size();
            double[] enc = new double[n], dec = new double[n], raw = new double[n], tm = new double[n], ref = new double[n];
            double[][] norm = new double[all.length][n];
            for (int p = 0; p < n; p++) {
                Timed t = ps.get(p);
                raw[p] = statistic.of(t.timing());
                tm[p] = Statistic.TRIMMED_MEAN.of(t.timing());
                if (t.paired() != null) {
                    // each run against the reference run just before it: the median ratio, in the anchor's ms
                    LatencyProtocol.Timing ratio = t.paired().ratios();
                    enc[p] = ratio.encoder().median() * anchor;
                    dec[p] = ratio.decoder().median() * anchor;
                    ref[p] = statistic.of(t.paired().reference());
                    for (Statistic s : all) {
                        norm[s.ordinal()][p] = s.of(ratio) * anchor;
                    }
                    continue;
                }
                double f = refs.isEmpty() ? 1 : anchor / local.get(t);
                enc[p] = statistic.of(t.timing().encoder()) * f;
                dec[p] = statistic.of(t.timing().decoder()) * f;
                ref[p] = refs.isEmpty() ? Double.NaN : local.get(t);
                for (Statistic s : all) {
                    norm[s.ordinal()][p] = s.of(t.timing()) * f;
                }
            }
            boolean isPaired = ps.stream().allMatch(t -> t.paired() != null);
            labels.add(new Label(e.getKey(), n, median(enc), median(dec), median(raw), mean(tm),
                    refs.isEmpty() && !isPaired ? null : mean(ref), anchor,
                    meanOrNull(ps.stream().map(t -> t.disturbance().cpuSteal()).toList()),
                    meanOrNull(ps.stream().map(t -> t.disturbance().loadAvg()).toList()),
                    ps.stream().anyMatch(t -> t.disturbance().concurrent()), norm, raw, isPaired ? PAIRED_MEDIAN : statistic.label,
                    ps.stream().map(Timed::timing).toList()));
        }
        Map<String, Double> byStat = new LinkedHashMap<>();
        for (Statistic s : all) {
            byStat.put(s.label, retestError(labels.stream().map(l -> l.normalized()[s.ordinal()]).toList()));
        }
        boolean allPaired = !labels.isEmpty() && labels.stream().allMatch(l -> l.statistic().equals(PAIRED_MEDIAN));
        if (allPaired) {
            // a paired pass's label is the median column's value (median encoder ratio + median decoder ratio)
            byStat.put(PAIRED_MEDIAN, byStat.get(Statistic.MEDIAN.label));
        }
        String used = allPaired ? PAIRED_MEDIAN : statistic.label;
        Summary summary = new Summary(labels.size(), labels.stream().mapToInt(Label::passes).max().orElse(0), used,
                referenceMs, anchor,
                byStat.get(used), retestError(labels.stream().map(Label::raw).toList()), byStat,
                drift(refs, statistic),
                meanOrNull(timed.stream().map(t -> t.disturbance().cpuSteal()).toList()),
                meanOrNull(timed.stream().map(t -> t.disturbance().loadAvg()).toList()));
        return new Result(labels, summary);
    }

    /** The reference latency at {@code position}: linear between the references timed just before and after it. */
    static double referenceAt(List<Timed> refs, int position, Statistic s) {
        Timed before = null, after = null;
        for (Timed r : refs) {
            if (r.slot().position() <= position) {
                before = r;
            } else if (after == null) {
                after = r;
            }
        }
        if (before == null || after == null) {
            return s.of((before != null ? before : after).timing());
        }
        double a = s.of(before.timing()), b = s.of(after.timing());
        double w = (position - before.slot().position()) / (double) (after.slot().position() - before.slot().position());
        return a + w * (b - a);
    }

    /**
     * Relative RMSE between passes of the same configs: over every config and every pair of its
     * passes, sqrt(mean (a − b)²) / mean of all values; null without any config of two passes.
     */
    public static Double retestError(List<double[]> passesPerConfig) {
        double se = 0, sum = 0;
        long pairs = 0, values = 0;
        for (double[] v : passesPerConfig) {
            for (int i = 0; i < v.length; i++) {
                sum += v[i];
                values++;
                for (int j = i + 1; j < v.length; j++) {
                    se += (v[i] - v[j]) * (v[i] - v[j]);
                    pairs++;
                }
            }
        }
        return pairs == 0 ? null : Math.sqrt(se / pairs) / (sum / values);
    }

    /** Least-squares slope of the reference latency over the run (position scaled to [0, 1]), relative to its mean. */
    static Double drift(List<Timed> refs, Statistic s) {
        if (refs.size() < 2) {
            return null;
        }
        int first = refs.get(0).slot().position(), last = refs.get(refs.size() - 1).slot().position();
        double[] x = refs.stream().mapToDouble(r -> (r.slot().position() - first) / (double) (last - first)).toArray();
        double[] y = refs.stream().mapToDouble(r -> s.of(r.timing())).toArray();
        double mx = mean(x), my = mean(y), sxy = 0, sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxy / sxx / my;
    }

    /** Per-chunk errors pooled into one figure: sqrt of the config-weighted mean square; null when none. */
    public static Double pooled(List<Double> errors, List<Integer> configs) {
        double se = 0, n = 0;
        for (int i = 0; i < errors.size(); i++) {
            if (errors.get(i) != null) {
                se += configs.get(i) * errors.get(i) * errors.get(i);
                n += configs.get(i);
            }
        }
        return n == 0 ? null : Math.sqrt(se / n);
    }

    /**
     * Whether a measured latency meets its budget within the label noise (relative retest error):
     * measured ≤ budget × (1 + noise); null without a budget, no allowance without a noise figure.
     */
    public static Boolean meetsBudget(double measuredMs, Double budgetMs, Double labelNoise) {
        return budgetMs == null ? null : measuredMs <= budgetMs * (1 + (labelNoise == null ? 0 : labelNoise));
    }

    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    private static Double meanOrNull(List<Double> v) {
        double[] d = v.stream().filter(java.util.Objects::nonNull).mapToDouble(Double::doubleValue).toArray();
        return d.length == 0 ? null : mean(d);
    }
}
