package dev.hatspark.jobs.latency;

import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.latency.Schedule;
import dev.hatspark.latency.ScheduleOptions;
import dev.hatspark.latency.TimingClock;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code latency/runs/}, the noise record of measuring runs, shared by measure-latency (which
 * writes a row per committed chunk) and evaluate, fit-predictor and report (which read the label
 * noise, the protocol and the reference anchor of a hardware id from it).
 */
public final class LatencyRuns {
    private LatencyRuns() {
    }

    public static final String MEASURE = "measure-latency";

    /** What a reference anchor is valid for: the same hardware, reference config, vocabulary, protocol shape and statistic. */
    public static String anchorKey(String hardwareId, String referenceHash, int vocab, LatencyProtocol p, String statistic) {
        return String.join("|", hardwareId, referenceHash, String.valueOf(vocab), p.srcLen() + "/" + p.beam() + "/" + p.steps(),
                statistic);
    }

    /** A chunk's (or an evaluate's) row. */
    public static Row row(String runId, String job, int chunk, String hardwareId, String space, int vocab,
                          LatencyProtocol p, ScheduleOptions o, String referenceHash, Schedule.Summary s, Double anchorMs) {
        Map<String, Double> by = s.retestByStatistic();
        return RowFactory.create(runId, job, chunk, hardwareId, space, vocab, p.srcLen(), p.beam(), p.steps(), p.warmup(),
                p.runs(), o.passes(), o.referenceEvery(), o.statistic().label, s.referenceMs() == null ? null : referenceHash,
                s.configs(), s.referenceMs(), anchorMs, s.retestError(), s.retestErrorRaw(),
                by.get(Schedule.Statistic.TRIMMED_MEAN.label), by.get(Schedule.Statistic.MEDIAN.label),
                by.get(Schedule.Statistic.P25.label), s.referenceDrift(), s.cpuSteal(), s.loadAvg(),
                Timestamp.from(Instant.now()), o.paired(), o.clock().label);
    }

    public static void append(SparkSession spark, Fs fs, Layout layout, List<Row> rows) {
        if (!rows.isEmpty()) {
            fs.appendParquet(spark.createDataFrame(rows, Tables.LATENCY_RUNS).coalesce(1), layout.latencyRuns());
        }
    }

    private static List<Row> measureRows(SparkSession spark, Fs fs, Layout layout) {
        if (!fs.exists(layout.latencyRuns())) {
            return List.of();
        }
        return spark.read().schema(Tables.LATENCY_RUNS).parquet(layout.latencyRuns())
                .where(org.apache.spark.sql.functions.col("job").equalTo(MEASURE))
                .orderBy("finished_at", "run_id", "chunk").collectAsList();
    }

    /** Anchor key → the anchor of the first measure-latency chunk that had it (every later chunk divides by the same). */
    public static Map<String, Double> anchors(SparkSession spark, Fs fs, Layout layout) {
        Map<String, Double> out = new HashMap<>();
        for (Row r : measureRows(spark, fs, layout)) {
            if (!r.isNullAt(r.fieldIndex("reference_anchor_ms"))) {
                out.putIfAbsent(key(r), r.getDouble(r.fieldIndex("reference_anchor_ms")));
            }
        }
        return out;
    }

    private static String key(Row r) {
        return String.join("|", r.getString(r.fieldIndex("hardware_id")), r.getString(r.fieldIndex("reference_hash")),
                String.valueOf(r.getInt(r.fieldIndex("vocab_size"))), r.getInt(r.fieldIndex("src_len")) + "/"
                        + r.getInt(r.fieldIndex("beam")) + "/" + r.getInt(r.fieldIndex("decoder_steps")),
                r.getString(r.fieldIndex("statistic")));
    }

    /**
     * The measuring record of a hardware id: the protocol of its latest measure-latency chunk and the
     * label noise of all its chunks (retest error pooled by configs, and of the raw and trimmed-mean
     * labels); null without any.
     */
    public record Noise(String hardwareId, ScheduleOptions options, int warmup, int runs, Double retestError,
                        Double retestErrorRaw, Double retestErrorTrimmedMean, Double referenceDrift, int configs) {
    }

    public static Noise noise(SparkSession spark, Fs fs, Layout layout, String hardwareId) {
        List<Row> rows = measureRows(spark, fs, layout).stream()
                .filter(r -> r.getString(r.fieldIndex("hardware_id")).equals(hardwareId)).toList();
        if (rows.isEmpty()) {
            return null;
        }
        List<Integer> n = rows.stream().map(r -> r.getInt(r.fieldIndex("configs"))).toList();
        Row last = rows.get(rows.size() - 1);
        return new Noise(hardwareId, new ScheduleOptions(last.getInt(last.fieldIndex("passes")),
                last.getInt(last.fieldIndex("reference_every")),
                Schedule.Statistic.parse(last.getString(last.fieldIndex("statistic"))),
                // null: measured before pairing existed
                !last.isNullAt(last.fieldIndex("paired")) && last.getBoolean(last.fieldIndex("paired")),
                last.isNullAt(last.fieldIndex("clock")) ? TimingClock.WALL : TimingClock.parse(last.getString(last.fieldIndex("clock")))),
                last.getInt(last.fieldIndex("warmup")), last.getInt(last.fieldIndex("runs")),
                Schedule.pooled(column(rows, "retest_error"), n), Schedule.pooled(column(rows, "retest_error_raw"), n),
                Schedule.pooled(column(rows, "retest_error_trimmed_mean"), n),
                Schedule.pooled(column(rows, "reference_drift"), n), n.stream().mapToInt(Integer::intValue).sum());
    }

    private static List<Double> column(List<Row> rows, String name) {
        List<Double> out = new ArrayList<>();
        for (Row r : rows) {
            int i = r.fieldIndex(name);
            out.add(r.isNullAt(i) ? null : r.getDouble(i));
        }
        return out;
    }

    /** The pooled retest error of a hardware id's labels, or null without measuring runs (imported CSVs, old roots). */
    public static Double labelNoise(SparkSession spark, Fs fs, Layout layout, String hardwareId) {
        Noise n = noise(spark, fs, layout, hardwareId);
        return n == null ? null : n.retestError();
    }

    /** How far above the label noise a predictor's error may be before it is flagged. */
    public static final double NOISE_FLAG_RATIO = 2.0;

    /** Whether {@code rmseRel} is more than {@link #NOISE_FLAG_RATIO} × the label noise; null without a noise figure. */
    public static Boolean aboveNoise(double rmseRel, Double labelNoise) {
        return labelNoise == null ? null : rmseRel > NOISE_FLAG_RATIO * labelNoise;
    }
}
