package dev.hatspark.jobs.store;

import dev.hatspark.util.BadInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Hadoop-path I/O for every job ({@code file:}, {@code hdfs:}, {@code s3a:} alike). Writes go to a
 * temporary sibling first and are committed by rename, so a crash never leaves a half-written output
 * where a reader or a rerun would take it for a finished one.
 *
 * <p>On S3 (s3a) a rename is a copy and a delete per object: a file still appears whole, but a
 * directory appears file by file. Hence appends commit one file per partition (each append appears
 * whole), checkpoints write their state.json last as a commit marker, and a folder replaced whole (the
 * predictor folder; on object stores, see {@link #atomicRename}, every table of {@link #writeParquet})
 * is versioned: the new version is written beside the old one and committed with a marker file
 * ({@link #commitVersion}), and readers resolve it through {@link #current} ({@link #hasCurrent} for
 * "is there one"). Spark reading such a folder by its own path finds no files (it descends only into
 * {@code key=value} folders) and fails rather than read a part.
 */
public final class Fs {
    private final Configuration conf;

    public Fs(Configuration conf) {
        this.conf = conf;
    }

    public FileSystem fs(String path) {
        requireNoCredentials(path);
        try {
            return new Path(path).getFileSystem(conf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open file system of " + path, e);
        }
    }

    // scheme://user:secret@bucket/... (the secret may hold '/'); Hadoop refuses such URIs but logs them whole
    private static final java.util.regex.Pattern CREDENTIALS =
            java.util.regex.Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*:[^@]*@");

    /** Rejects a path carrying credentials before Hadoop sees (and logs) it; the message leaves them out. */
    public static String requireNoCredentials(String path) {
        var m = CREDENTIALS.matcher(path);
        if (m.find()) {
            throw new BadInputException(m.replaceFirst("$1") + ": a path must not carry credentials"
                    + " (user:secret@); set them as fs.s3a.* settings or in the environment");
        }
        return path;
    }

    /**
     * Temporary outputs are hidden siblings of their target, {@code <target>._tmp-<uuid>}; readers and
     * listings skip every name that {@link #isTemporary} says is one (also a table being swapped out).
     */
    public static String temporary(String target) {
        return target + TMP + UUID.randomUUID();
    }

    private static final String TMP = "._tmp-";

    /** A name of a temporary or hidden entry: not a table, id or checkpoint of its own. */
    public static boolean isTemporary(String name) {
        return name.startsWith(".") || name.contains("._");
    }

    /** Child names of {@code dir} that are not temporary (sweep ids, hardware ids, ...), sorted. */
    public List<String> listIds(String dir) {
        return list(dir).stream().filter(n -> !isTemporary(n)).toList();
    }

    public static String join(String root, String... parts) {
        StringBuilder b = new StringBuilder(root.endsWith("/") ? root.substring(0, root.length() - 1) : root);
        for (String p : parts) {
            b.append('/').append(p);
        }
        return b.toString();
    }

    public boolean exists(String path) {
        try {
            return fs(path).exists(new Path(path));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + path, e);
        }
    }

    public boolean isDirectory(String path) {
        try {
            return fs(path).getFileStatus(new Path(path)).isDirectory();
        } catch (java.io.FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + path, e);
        }
    }

    public byte[] read(String path) {
        try (InputStream in = fs(path).open(new Path(path))) {
            return in.readAllBytes();
        } catch (org.apache.hadoop.fs.ChecksumException e) { // the bytes changed after they were written (.crc)
            throw new BadInputException(path + ": does not match its checksum at byte " + e.getPos()
                    + "; the file is truncated or corrupt", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    public String readText(String path) {
        return new String(read(path), StandardCharsets.UTF_8);
    }

    /** Writes a file atomically: to a hidden temporary name, then renamed over the target. */
    public void write(String path, byte[] data) {
        Path target = new Path(path);
        Path tmp = new Path(target.getParent(), "." + target.getName() + TMP + UUID.randomUUID());
        FileSystem fs = fs(path);
        try {
            try (FSDataOutputStream out = fs.create(tmp, true)) {
                out.write(data);
            }
            fs.delete(target, false);
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename " + tmp + " -> " + target + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    public void writeText(String path, String text) {
        write(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Child directory names of {@code dir}, sorted; empty when it does not exist. */
    public List<String> list(String dir) {
        try {
            FileSystem fs = fs(dir);
            if (!fs.exists(new Path(dir))) {
                return List.of();
            }
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(new Path(dir))) {
                names.add(s.getPath().getName());
            }
            names.sort(null);
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    public void delete(String path) {
        try {
            fs(path).delete(new Path(path), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path, e);
        }
    }

    /** Renames a directory; the target must not exist. */
    public void rename(String from, String to) {
        try {
            if (!fs(from).rename(new Path(from), new Path(to))) {
                throw new IOException("rename returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    /**
     * Replaces a table with {@code data} as Parquet so that readers see the old table or the new one,
     * never a part: where a directory rename is atomic (local, HDFS) the table is written to a temporary
     * sibling and swapped in, and stays a plain folder that analysts read by path; on an object store it
     * becomes a versioned folder ({@link #commitVersion}), read through {@link #current}. A plain folder
     * from before (or copied from a local run) is read as it is and replaced by the first version.
     */
    public void writeParquet(Dataset<Row> data, String path, String... partitionBy) {
        if (!atomicRename(path)) {
            commitVersion(path, tmp -> writeTo(data, tmp, partitionBy));
            return;
        }
        String tmp = writeTemporary(data, path, partitionBy);
        String old = temporary(path);
        boolean had = exists(path);
        if (had) {
            rename(path, old);
        }
        rename(tmp, path);
        if (had) {
            delete(old);
        }
    }

    /**
     * Object stores whose directory rename is a copy of object after object: S3 (s3a, EMRFS's s3, the old
     * s3n), Google Cloud Storage and Azure Blob (wasb; abfs too, whose rename is atomic only with a
     * hierarchical namespace). Any other scheme (file, hdfs, viewfs...) is taken to rename atomically.
     */
    private static final java.util.Set<String> COPYING_RENAME =
            java.util.Set.of("s3a", "s3", "s3n", "gs", "wasb", "wasbs", "abfs", "abfss");

    /** Whether a directory under {@code path} is renamed in one step (not by copying object after object). */
    public boolean atomicRename(String path) {
        return !COPYING_RENAME.contains(fs(path).getUri().getScheme());
    }

    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("v-(\\d{6})");
    private static final String MARKER = "_";

    /**
     * Writes a new version of a folder (a table, a predictor) so that it is switched to in one step, on
     * S3 too, where a folder rename is a copy of object after object: {@code write} fills a temporary
     * sibling, which is moved to {@code <dir>/v-NNNNNN/} (a reader never looks there before the next
     * step); then the marker {@code <dir>/_v-NNNNNN}, one empty object, commits it; then older versions
     * (and the files of a folder written before versions existed) are deleted. The marker is the pointer:
     * {@link #current} reads the newest version that has one; the marker's {@code _} name hides it from
     * Parquet readers.
     */
    public void commitVersion(String dir, java.util.function.Consumer<String> write) {
        String tmp = temporary(dir);
        write.accept(tmp);
        // past every version folder, committed or left by a crash before its marker
        int next = list(dir).stream().map(VERSION::matcher).filter(java.util.regex.Matcher::matches)
                .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(0) + 1;
        String version = String.format("v-%06d", next);
        try {
            FileSystem fs = fs(dir);
            fs.mkdirs(new Path(dir));
            move(fs, new Path(tmp), new Path(dir, version));
            fs.create(new Path(dir, MARKER + version), false).close();
            for (FileStatus old : fs.listStatus(new Path(dir))) {
                String name = old.getPath().getName();
                if (!name.equals(version) && !name.equals(MARKER + version)) {
                    fs.delete(old.getPath(), true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The folder to read of a table or predictor written by {@link #commitVersion}: its newest committed
     * version; a folder without versions (an appended table, a run root from before) is read as it is.
     */
    public String current(String dir) {
        List<Integer> committed = versions(dir);
        if (committed.isEmpty()) {
            return dir;
        }
        return join(dir, String.format("v-%06d", committed.get(committed.size() - 1)));
    }

    /**
     * Whether {@link #current} has something to read: a committed version, or a folder from before
     * versions; not a folder that holds only a version still being moved in (or left so by a crash).
     */
    public boolean hasCurrent(String dir) {
        List<String> names = list(dir);
        return !versions(names).isEmpty()
                || names.stream().anyMatch(n -> !VERSION.matcher(n.startsWith(MARKER) ? n.substring(1) : n).matches());
    }

    private List<Integer> versions(String dir) {
        return versions(list(dir));
    }

    /** Version numbers among a folder's entries that have a commit marker and a folder, ascending. */
    private static List<Integer> versions(List<String> names) {
        List<Integer> found = new ArrayList<>();
        for (String n : names) {
            var m = VERSION.matcher(n);
            if (m.matches() && names.contains(MARKER + n)) {
                found.add(Integer.parseInt(m.group(1)));
            }
        }
        return found;
    }

    /**
     * Appends rows to a Parquet table, partitioned or not: written to a temporary directory, then
     * moved in. A partition directory that does not exist yet is moved in whole (one rename, so it
     * appears complete or not at all); into an existing one each data file is moved under its unique
     * name. A crash loses at most the rows in flight.
     */
    public void appendParquet(Dataset<Row> data, String path, String... partitionBy) {
        String tmp = writeTemporary(data, path, partitionBy);
        try {
            FileSystem fs = fs(tmp);
            fs.mkdirs(new Path(path));
            for (FileStatus entry : fs.listStatus(new Path(tmp))) {
                String name = entry.getPath().getName();
                Path target = new Path(path, name);
                if (entry.isDirectory()) {
                    if (!fs.exists(target)) {
                        move(fs, entry.getPath(), target);
                        continue;
                    }
                    for (FileStatus file : fs.listStatus(entry.getPath())) {
                        if (file.getPath().getName().endsWith(".parquet")) {
                            move(fs, file.getPath(), new Path(target, file.getPath().getName()));
                        }
                    }
                } else if (name.endsWith(".parquet")) {
                    move(fs, entry.getPath(), target);
                }
            }
            fs.delete(new Path(tmp), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + path + ": " + e.getMessage(), e);
        }
    }

    /** A rename that fails loudly: FileSystem.rename may just return false (S3A does, e.g., for a missing source). */
    private static void move(FileSystem fs, Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename " + from + " -> " + to + " returned false");
        }
    }

    /** Writes a table beside {@code path} under a hidden temporary name; returns that name. */
    private static String writeTemporary(Dataset<Row> data, String path, String... partitionBy) {
        String tmp = temporary(path);
        writeTo(data, tmp, partitionBy);
        return tmp;
    }

    private static void writeTo(Dataset<Row> data, String dir, String... partitionBy) {
        var w = data.write().mode(SaveMode.Overwrite);
        if (partitionBy.length > 0) {
            w = w.partitionBy(partitionBy);
        }
        w.parquet(dir);
    }
}
