package dev.hatspark.latency;

import dev.hatspark.space.ArchConfig;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of {@code latency/measurements/}: the one definition of its columns, shared by
 * measure-latency (Spark), hat-measure (an edge device, CSV) and import-latency. Values are held
 * in column order; a null is an unknown (rows imported from HAT's CSV know only the 10 features
 * and the encoder and decoder means).
 */
public final class Measurement implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Type { STRING, INT, DOUBLE, BOOLEAN, TIMESTAMP }

    public record Column(String name, Type type, boolean nullable) implements Serializable {
    }

    /**
     * Columns of the interleaved protocol ({@link Schedule}), added after the first tables were
     * written: absent from older tables and CSVs, where they read as null. latency_ms is the
     * reference-normalized label; raw_latency_ms the same statistic without normalization.
     */
    public static final List<Column> ADDED = List.of(
            new Column("raw_latency_ms", Type.DOUBLE, true),
            new Column("trimmed_mean_ms", Type.DOUBLE, true),
            new Column("statistic", Type.STRING, true),
            new Column("passes", Type.INT, true),
            new Column("reference_hash", Type.STRING, true),
            new Column("reference_ms", Type.DOUBLE, true),
            new Column("reference_anchor_ms", Type.DOUBLE, true),
            new Column("cpu_steal", Type.DOUBLE, true),
            new Column("load_avg", Type.DOUBLE, true),
            new Column("concurrent", Type.BOOLEAN, true),
            new Column("run_id", Type.STRING, true));

    public static final List<Column> COLUMNS = columns();
    private static final Map<String, Integer> INDEX = index();

    /** Columns whose value must be a positive number: the latencies. */
    public static final List<String> LATENCIES = List.of("encoder_ms", "decoder_ms", "latency_ms");

    private static List<Column> columns() {
        List<Column> c = new ArrayList<>();
        c.add(new Column("hardware_id", Type.STRING, false));
        c.add(new Column("cpu_model", Type.STRING, true));
        c.add(new Column("threads", Type.INT, true));
        c.add(new Column("os_arch", Type.STRING, true));
        c.add(new Column("djl_version", Type.STRING, true));
        c.add(new Column("pytorch_version", Type.STRING, true));
        c.add(new Column("space", Type.STRING, false));
        c.add(new Column("vocab_size", Type.INT, true));
        c.add(new Column("config_hash", Type.STRING, false));
        c.add(new Column("config_json", Type.STRING, true));
        for (String f : Features.HAT10) {
            c.add(new Column(f, Type.DOUBLE, false));
        }
        for (String s : List.of("encoder_ms", "decoder_ms", "latency_ms")) {
            c.add(new Column(s, Type.DOUBLE, false));
        }
        for (String s : List.of("std_ms", "encoder_median_ms", "decoder_median_ms", "encoder_p90_ms", "decoder_p90_ms",
                "encoder_std_ms", "decoder_std_ms")) {
            c.add(new Column(s, Type.DOUBLE, true));
        }
        c.add(new Column("runs", Type.INT, true));
        c.add(new Column("src_len", Type.INT, false));
        c.add(new Column("beam", Type.INT, false));
        c.add(new Column("decoder_steps", Type.INT, false));
        c.add(new Column("hat10_only", Type.BOOLEAN, false));
        c.add(new Column("measured_at", Type.TIMESTAMP, true));
        for (Column a : ADDED) {
            c.add(a);
        }
        return Collections.unmodifiableList(c);
    }

    private static Map<String, Integer> index() {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < COLUMNS.size(); i++) {
            m.put(COLUMNS.get(i).name(), i);
        }
        return m;
    }

    private final Object[] values;

    /** A row from values in {@link #COLUMNS} order; checks count, types and non-null columns. */
    public Measurement(Object... values) {
        if (values.length != COLUMNS.size()) {
            throw new IllegalArgumentException("a measurement has " + COLUMNS.size() + " columns, got " + values.length);
        }
        for (int i = 0; i < values.length; i++) {
            Column c = COLUMNS.get(i);
            Object v = values[i];
            if (v == null ? !c.nullable() : !javaType(c.type()).isInstance(v)) {
                throw new IllegalArgumentException("measurement column '" + c.name() + "' expected "
                        + (v == null ? "a value" : javaType(c.type()).getSimpleName()) + ", got " + v);
            }
        }
        this.values = values.clone();
    }

    public static Class<?> javaType(Type t) {
        return switch (t) {
            case STRING -> String.class;
            case INT -> Integer.class;
            case DOUBLE -> Double.class;
            case BOOLEAN -> Boolean.class;
            case TIMESTAMP -> Instant.class;
        };
    }

    /** A config timed with {@code protocol} on {@code device} at {@code at} (kept to the microsecond). */
    public static Measurement timed(Device device, String space, int vocab, ArchConfig c, LatencyProtocol protocol,
                                    LatencyProtocol.Timing t, Instant at) {
        List<Object> v = new ArrayList<>(List.of(device.hardwareId(), device.cpuModel(), device.threads(),
                device.osArch(), device.djlVersion(), device.pytorchVersion(), space, vocab, c.hash(), c.toJson()));
        for (double f : Features.hat10(c)) {
            v.add(f);
        }
        v.addAll(List.of(t.encoder().trimmedMean(), t.decoder().trimmedMean(), t.latencyMs(),
                Math.hypot(t.encoder().std(), t.decoder().std()), t.encoder().median(), t.decoder().median(),
                t.encoder().p90(), t.decoder().p90(), t.encoder().std(), t.decoder().std(), protocol.runs(),
                protocol.srcLen(), protocol.beam(), protocol.steps(), false,
                at.truncatedTo(java.time.temporal.ChronoUnit.MICROS))); // Parquet's timestamp precision
        v.addAll(Arrays.asList(t.latencyMs(), t.latencyMs(), Schedule.Statistic.TRIMMED_MEAN.label, 1, null, null, null,
                null, null, null, null));
        return new Measurement(v.toArray());
    }

    /**
     * A config labelled by the interleaved schedule: encoder_ms, decoder_ms and latency_ms are the
     * reference-normalized label; the medians, p90s and standard deviations are over all its passes'
     * statistics as timed (medians of the per-pass values).
     */
    public static Measurement labelled(Device device, String space, int vocab, ArchConfig c, LatencyProtocol protocol,
                                       Schedule.Label l, String referenceHash, String runId, Instant at) {
        List<Object> v = new ArrayList<>(List.of(device.hardwareId(), device.cpuModel(), device.threads(),
                device.osArch(), device.djlVersion(), device.pytorchVersion(), space, vocab, c.hash(), c.toJson()));
        for (double f : Features.hat10(c)) {
            v.add(f);
        }
        List<LatencyProtocol.Timing> ts = l.timings();
        double encStd = rms(ts.stream().mapToDouble(t -> t.encoder().std()));
        double decStd = rms(ts.stream().mapToDouble(t -> t.decoder().std()));
        v.addAll(Arrays.asList(l.encoderMs(), l.decoderMs(), l.latencyMs(), Math.hypot(encStd, decStd),
                med(ts.stream().mapToDouble(t -> t.encoder().median())), med(ts.stream().mapToDouble(t -> t.decoder().median())),
                med(ts.stream().mapToDouble(t -> t.encoder().p90())), med(ts.stream().mapToDouble(t -> t.decoder().p90())),
                encStd, decStd, protocol.runs(), protocol.srcLen(), protocol.beam(), protocol.steps(), false,
                at.truncatedTo(java.time.temporal.ChronoUnit.MICROS),
                l.rawMs(), l.trimmedMeanMs(), l.statistic(), l.passes(), l.referenceMs() == null ? null : referenceHash,
                l.referenceMs(), l.anchorMs(), l.cpuSteal(), l.loadAvg(), l.concurrent(), runId));
        return new Measurement(v.toArray());
    }

    private static double med(java.util.stream.DoubleStream s) {
        return Schedule.median(s.toArray());
    }

    private static double rms(java.util.stream.DoubleStream s) {
        return Math.sqrt(s.map(x -> x * x).average().orElse(Double.NaN));
    }

    /**
     * A row of HAT's published format: only the 10 features and per-part means (and standard
     * deviations, when given), measured with HAT's protocol. {@code key} identifies the row.
     */
    public static Measurement hat10Only(String hardwareId, String cpuModel, String space, String key, double[] hat10,
                                        double encoderMs, double decoderMs, Double encoderStd, Double decoderStd) {
        LatencyProtocol hat = LatencyProtocol.hat();
        List<Object> v = new ArrayList<>(Arrays.asList(hardwareId, cpuModel, null, null, null, null, space, null, key,
                null));
        for (double f : hat10) {
            v.add(f);
        }
        Double std = encoderStd == null || decoderStd == null ? null : Math.hypot(encoderStd, decoderStd);
        v.addAll(Arrays.asList(encoderMs, decoderMs, encoderMs + decoderMs, std, null, null, null, null, encoderStd,
                decoderStd, null, hat.srcLen(), hat.beam(), hat.steps(), true, null));
        v.addAll(Arrays.asList(null, encoderMs + decoderMs, Schedule.Statistic.TRIMMED_MEAN.label, null, null, null, null,
                null, null, null, null));
        return new Measurement(v.toArray());
    }

    public Object get(String column) {
        Integer i = INDEX.get(column);
        if (i == null) {
            throw new IllegalArgumentException("no measurement column '" + column + "'");
        }
        return values[i];
    }

    /** The values in {@link #COLUMNS} order. */
    public Object[] values() {
        return values.clone();
    }

    /** The same row under another hardware id (import-latency files rows under the id it is given). */
    public Measurement withHardwareId(String hardwareId) {
        Object[] v = values.clone();
        v[0] = hardwareId;
        return new Measurement(v);
    }

    /**
     * The same label under another reference anchor: concurrent tasks of a hardware's first chunk each
     * anchor on their own reference timings; the driver then puts them all on one anchor.
     */
    public Measurement reanchored(double anchorMs) {
        Double old = (Double) get("reference_anchor_ms");
        if (old == null || old == anchorMs) {
            return this;
        }
        Object[] v = values.clone();
        for (String c : List.of("encoder_ms", "decoder_ms", "latency_ms")) {
            v[INDEX.get(c)] = (Double) v[INDEX.get(c)] * anchorMs / old;
        }
        v[INDEX.get("reference_anchor_ms")] = anchorMs;
        return new Measurement(v);
    }

    public String hardwareId() {
        return (String) values[0];
    }

    public String configHash() {
        return (String) get("config_hash");
    }

    public double latencyMs() {
        return (Double) get("latency_ms");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Measurement m && Arrays.equals(values, m.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Measurement" + Arrays.toString(values);
    }
}
