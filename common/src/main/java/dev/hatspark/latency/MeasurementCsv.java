package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import dev.hatspark.space.ArchConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Latency measurements as CSV, in two formats. {@code hat-spark}: the columns of
 * {@link Measurement#COLUMNS} in that order, one row per line (what hat-measure writes, config JSON
 * quoted). {@code hat}: HAT's published datasets, the 10 aggregated features then
 * {@code latency_mean_encoder}, {@code latency_mean_decoder} and optionally
 * {@code latency_std_encoder}, {@code latency_std_decoder} (ms). Parsing checks every row and reports
 * each bad one as {@code file:line: column 'x' expected ..., got '...'}; callers decide whether a bad
 * row rejects the file.
 */
public final class MeasurementCsv {
    public static final String OURS = "hat-spark";
    public static final String HAT = "hat";
    public static final List<String> HAT_LATENCY = List.of("latency_mean_encoder", "latency_mean_decoder");
    public static final List<String> HAT_STD = List.of("latency_std_encoder", "latency_std_decoder");

    private static final CsvMapper CSV = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
    private static final ObjectReader ROW_READER = CSV.readerFor(String[].class);
    private static final ObjectWriter ROW_WRITER = CSV.writer(CsvSchema.emptySchema().withLineSeparator(""));

    private MeasurementCsv() {
    }

    /** A row that failed its checks: where and why. */
    public record BadRow(String source, int line, String message) {
        @Override
        public String toString() {
            return source + ":" + line + ": " + message;
        }
    }

    /** The good rows of a file, its bad ones, and which format it was. */
    public record Parsed(String format, List<Measurement> rows, List<BadRow> bad, int lines) {
    }

    /** What HAT's rows do not carry: the id, CPU and design space they are filed under. */
    public record HatContext(String hardwareId, String cpuModel, String space) {
    }

    public static String header() {
        return line(Measurement.COLUMNS.stream().map(Measurement.Column::name).toArray(String[]::new));
    }

    /** One measurement as a CSV line (no line break); null is an empty field. */
    public static String line(Measurement m) {
        Object[] v = m.values();
        String[] s = new String[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = v[i] == null ? "" : v[i].toString();
        }
        return line(s);
    }

    private static String line(String[] fields) {
        try {
            return ROW_WRITER.writeValueAsString(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Parses a file of either format, told apart by the header. A header that is neither, or lacks
     * columns, is an error for the whole file (IllegalArgumentException naming the missing columns).
     * {@code hat} files HAT's rows; null accepts hat-measure's format only.
     */
    public static Parsed parse(String text, String source, HatContext hat) {
        List<String> lines = Arrays.asList(text.split("\r?\n", -1));
        if (lines.isEmpty() || lines.get(0).isBlank()) {
            throw new BadInputException(source + ":1: expected a CSV header, the file is empty");
        }
        String[] header = fields(lines.get(0), source, 1);
        Set<String> names = new LinkedHashSet<>(Arrays.asList(header));
        boolean ours = names.contains("config_hash");
        boolean theirs = names.contains(HAT_LATENCY.get(0)) || names.contains(HAT_LATENCY.get(1));
        if (!ours && !theirs) {
            throw new BadInputException(source + ":1: not a latency CSV: expected hat-measure's header ("
                    + String.join(",", Measurement.COLUMNS.stream().limit(3).map(Measurement.Column::name).toList())
                    + ",...) or HAT's (" + String.join(",", Features.HAT10.subList(0, 2)) + ",...,"
                    + String.join(",", HAT_LATENCY) + ")");
        }
        if (!ours && hat == null) {
            throw new BadInputException(source + ":1: this is HAT's latency format; expected hat-measure's CSV here");
        }
        List<String> required = new ArrayList<>();
        if (ours) {
            // files of hat-measure before the interleaved protocol lack the added columns: null there
            Measurement.COLUMNS.stream().filter(c -> !Measurement.ADDED.contains(c)).forEach(c -> required.add(c.name()));
        } else {
            required.addAll(Features.HAT10);
            required.addAll(HAT_LATENCY);
        }
        List<String> missing = required.stream().filter(n -> !names.contains(n)).toList();
        if (!missing.isEmpty()) {
            throw new BadInputException(source + ":1: missing column" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing.stream().map(n -> "'" + n + "'").toList())
                    + (ours ? " (hat-measure's CSV)" : " (HAT's latency CSV)"));
        }
        Map<String, Integer> col = new HashMap<>();
        for (int i = 0; i < header.length; i++) {
            col.putIfAbsent(header[i], i);
        }
        List<Measurement> rows = new ArrayList<>();
        List<BadRow> bad = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) {
                continue;
            }
            int lineNo = i + 1;
            try {
                String[] f = fields(l, source, lineNo);
                if (f.length != header.length) {
                    boolean last = i == lines.size() - 1;
                    throw new BadInputException("expected " + header.length + " fields, got " + f.length
                            + (last && f.length < header.length ? " (a line cut short: was the measuring interrupted?)" : ""));
                }
                Row r = new Row(f, col);
                rows.add(ours ? ours(r) : hat(r, hat));
            } catch (IllegalArgumentException e) {
                bad.add(new BadRow(source, lineNo, e.getMessage()));
            }
        }
        return new Parsed(ours ? OURS : HAT, rows, bad, lines.size());
    }

    private static String[] fields(String line, String source, int lineNo) {
        try {
            return ROW_READER.<String[]>readValues(line).next();
        } catch (RuntimeException | java.io.IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new BadInputException((lineNo == 1 ? source + ":1: " : "") + "unreadable CSV: " + why);
        }
    }

    /** A line's fields by column name, with typed reads that name the column and value on failure. */
    private record Row(String[] f, Map<String, Integer> col) {
        String raw(String name) {
            return f[col.get(name)].trim();
        }

        Object typed(Measurement.Column c) {
            if (c.nullable() && !col.containsKey(c.name())) {
                return null;
            }
            String s = raw(c.name());
            if (s.isEmpty()) {
                if (c.nullable()) {
                    return null;
                }
                throw expected(c.name(), "a value", s);
            }
            try {
                return switch (c.type()) {
                    case STRING -> s;
                    case INT -> Integer.valueOf(s);
                    case DOUBLE -> number(c.name());
                    case BOOLEAN -> bool(c.name(), s);
                    case TIMESTAMP -> Instant.parse(s);
                };
            } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
                throw expected(c.name(), switch (c.type()) {
                    case INT -> "an integer";
                    case TIMESTAMP -> "an ISO-8601 instant";
                    default -> "a number";
                }, s);
            }
        }

        double number(String name) {
            String s = raw(name);
            try {
                double d = Double.parseDouble(s);
                if (Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw expected(name, "a number", s);
        }

        double positive(String name) {
            double d = number(name);
            if (d <= 0) {
                throw expected(name, "a positive number", raw(name));
            }
            return d;
        }

        private static Boolean bool(String name, String s) {
            if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                return Boolean.valueOf(s);
            }
            throw expected(name, "true or false", s);
        }
    }

    private static IllegalArgumentException expected(String column, String what, String got) {
        return new BadInputException("column '" + column + "' expected " + what + ", got '" + got + "'");
    }

    private static Measurement ours(Row r) {
        Object[] v = new Object[Measurement.COLUMNS.size()];
        for (int i = 0; i < v.length; i++) {
            Measurement.Column c = Measurement.COLUMNS.get(i);
            v[i] = c.type() == Measurement.Type.DOUBLE && !c.nullable() ? r.number(c.name()) : r.typed(c);
        }
        for (String l : Measurement.LATENCIES) {
            r.positive(l);
        }
        Measurement m = new Measurement(v);
        if (!(Boolean) m.get("hat10_only")) {
            String json = (String) m.get("config_json");
            if (json == null) {
                throw expected("config_json", "a config (hat10_only is false)", "");
            }
            String hash;
            try {
                hash = ArchConfig.fromJson(json).hash();
            } catch (RuntimeException e) {
                throw expected("config_json", "a config JSON", json);
            }
            if (!hash.equals(m.configHash())) {
                throw expected("config_hash", "the hash of config_json, " + hash, m.configHash());
            }
        }
        return m;
    }

    private static Measurement hat(Row r, HatContext ctx) {
        double[] x = new double[Features.HAT10.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.positive(Features.HAT10.get(i));
        }
        double enc = r.positive(HAT_LATENCY.get(0));
        double dec = r.positive(HAT_LATENCY.get(1));
        Double[] std = new Double[2];
        for (int i = 0; i < 2; i++) {
            if (r.col().containsKey(HAT_STD.get(i)) && !r.raw(HAT_STD.get(i)).isEmpty()) {
                std[i] = r.number(HAT_STD.get(i));
                if (std[i] < 0) {
                    throw expected(HAT_STD.get(i), "a non-negative number", r.raw(HAT_STD.get(i)));
                }
            }
        }
        return Measurement.hat10Only(ctx.hardwareId(), ctx.cpuModel(), ctx.space(), rowKey(x, enc, dec, std), x, enc, dec,
                std[0], std[1]);
    }

    /**
     * The key of a HAT row (they carry no config): 16 hex digits of the SHA-256 of its numbers, so the
     * same row imported twice is recognised, while different measurements of configs with equal
     * averages stay apart.
     */
    static String rowKey(double[] x, double enc, double dec, Double[] std) {
        StringBuilder b = new StringBuilder("hat10");
        for (double d : x) {
            b.append(',').append(d);
        }
        b.append(',').append(enc).append(',').append(dec).append(',').append(std[0]).append(',').append(std[1]);
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
