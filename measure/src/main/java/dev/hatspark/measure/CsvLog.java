package dev.hatspark.measure;

import dev.hatspark.util.BadInputException;
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.MeasurementCsv;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The CSV hat-measure appends to, one flushed line per measured config, so a kill loses at most the
 * config in flight. Opening an existing file resumes it: a torn last line (no line break: the kill
 * came mid-write) is cut off, and the configs already there are reported so they are not measured
 * again. Rows of another hardware id, space or protocol make the file unusable for this run.
 */
final class CsvLog implements Closeable {
    private final Path file;
    private final Set<String> done;
    private final BufferedWriter out;
    private final boolean tornLineDropped;

    private final Double anchorMs;

    private CsvLog(Path file, Set<String> done, BufferedWriter out, boolean tornLineDropped, Double anchorMs) {
        this.anchorMs = anchorMs;
        this.file = file;
        this.done = done;
        this.out = out;
        this.tornLineDropped = tornLineDropped;
    }

    /**
     * Opens {@code file} for appending, creating it with the header when absent. {@code expect} holds
     * the columns whose values every existing row must share with this run (hardware id, space,
     * vocabulary, protocol).
     */
    static CsvLog open(Path file, Map<String, Object> expect) throws IOException {
        boolean torn = false;
        Set<String> done = new HashSet<>();
        Double[] anchor = {null};
        String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        if (!text.isEmpty() && !text.endsWith("\n")) {
            long keep = text.lastIndexOf('\n') + 1;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(text.substring(0, (int) keep).getBytes(StandardCharsets.UTF_8).length);
            }
            text = text.substring(0, (int) keep);
            torn = true;
        }
        if (text.isEmpty()) {
            Files.writeString(file, MeasurementCsv.header() + "\n", StandardCharsets.UTF_8);
        } else {
            MeasurementCsv.Parsed p = MeasurementCsv.parse(text, file.toString(), null);
            if (!p.format().equals(MeasurementCsv.OURS)) {
                throw new BadInputException(file + ": not a hat-measure CSV (it is HAT's format): pass another --out");
            }
            if (!p.bad().isEmpty()) {
                throw new BadInputException(p.bad().size() + " bad rows in " + file + ", first " + p.bad().get(0)
                        + ": fix or move the file before resuming");
            }
            for (Measurement m : p.rows()) {
                for (Map.Entry<String, Object> e : expect.entrySet()) {
                    if (!Objects.equals(m.get(e.getKey()), e.getValue())) {
                        throw new BadInputException(file + " holds measurements with " + e.getKey() + " '"
                                + m.get(e.getKey()) + "', this run's is '" + e.getValue()
                                + "': pass another --out or the same options");
                    }
                }
                done.add(m.configHash());
                if (anchor[0] == null) {
                    anchor[0] = (Double) m.get("reference_anchor_ms");
                }
            }
        }
        BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        return new CsvLog(file, done, w, torn, anchor[0]);
    }

    /** Config hashes already in the file. */
    Set<String> done() {
        return Set.copyOf(done);
    }

    /** The reference anchor of the file's first row that has one (null: none yet). */
    Double anchorMs() {
        return anchorMs;
    }

    boolean tornLineDropped() {
        return tornLineDropped;
    }

    Path file() {
        return file;
    }

    /** Appends one row and flushes it to the file. */
    void append(Measurement m) throws IOException {
        out.write(MeasurementCsv.line(m));
        out.write('\n');
        out.flush();
        done.add(m.configHash());
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
