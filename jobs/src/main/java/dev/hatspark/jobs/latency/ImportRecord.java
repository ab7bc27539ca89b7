package dev.hatspark.jobs.latency;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code latency/imports/<hw>.json}: the design space of a hardware id's imported rows and each
 * import (written by import-latency, read by fit-predictor and sweep).
 */
public record ImportRecord(String hardwareId, String space, String spaceYaml, List<Entry> imports) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record Entry(String file, String format, long rows, long added, long alreadyThere, long badSkipped,
                        String importedAt) {
    }

    /** The import record of a hardware id, or null when nothing was imported under it. */
    public static ImportRecord read(Fs fs, Layout layout, String hardwareId) {
        String path = layout.latencyImport(hardwareId);
        if (!fs.exists(path)) {
            return null;
        }
        try {
            return JSON.readValue(fs.readText(path), ImportRecord.class);
        } catch (IOException e) {
            throw new BadInputException(path + ": not an import record (" + e.getMessage() + ")");
        }
    }

    public void write(Fs fs, Layout layout) {
        try {
            fs.writeText(layout.latencyImport(hardwareId), JSON.writeValueAsString(this));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The design space of the imported rows; {@code layout} names the file in errors. */
    public DesignSpace designSpace(Layout layout) {
        return DesignSpace.parse(spaceYaml, layout.latencyImport(hardwareId));
    }
}
