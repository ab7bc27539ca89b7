package dev.hatspark.jobs;

import dev.hatspark.jobs.store.Fs;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Versioned replaces: a folder from before versions reads as it is; only a committed version is ever read. */
class FsVersionsTest {
    @Test
    void readersSeeTheOldFolderUntilTheMarkerThenTheNewOneAlone(@TempDir Path dir) throws Exception {
        Fs fs = new Fs(new Configuration());
        String table = dir.resolve("table").toString();
        Files.createDirectories(Path.of(table));
        Files.writeString(Path.of(table, "part-0.parquet"), "legacy");
        assertEquals(table, fs.current(table), "a folder without versions is read as it is");

        // a crash after the new version was moved in but before its marker: still the old folder
        Files.createDirectories(Path.of(table, "v-000001"));
        Files.writeString(Path.of(table, "v-000001", "part-0.parquet"), "torn");
        assertEquals(table, fs.current(table));

        fs.commitVersion(table, tmp -> fs.writeText(tmp + "/part-0.parquet", "second"));
        String current = fs.current(table);
        assertEquals(table + "/v-000002", current, "past the uncommitted v-000001");
        assertEquals("second", fs.readText(current + "/part-0.parquet"));
        assertEquals(List.of("_v-000002", "v-000002"), fs.list(table), "the legacy files and the torn version are gone");

        // a write that fails leaves the committed version in force and nothing a reader takes up
        assertThrows(IllegalStateException.class, () -> fs.commitVersion(table, tmp -> {
            fs.writeText(tmp + "/part-0.parquet", "half");
            throw new IllegalStateException("killed");
        }));
        assertEquals(current, fs.current(table));
        fs.commitVersion(table, tmp -> fs.writeText(tmp + "/part-0.parquet", "third"));
        assertEquals("third", fs.readText(fs.current(table) + "/part-0.parquet"));
        assertEquals(List.of("_v-000003", "v-000003"), fs.list(table));
    }
}
