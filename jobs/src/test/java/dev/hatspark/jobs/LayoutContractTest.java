package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run-root contract: every folder a run writes is named by {@link Layout}, every table has its {@link Tables} columns. */
class LayoutContractTest {
    @Test
    void everyDirectoryOfASmallRunIsNamedByLayoutAndEveryTableMatchesItsDeclaredSchema() throws Exception {
        SparkSession spark = SmallRun.spark();
        String root = SmallRun.root(spark);
        Layout layout = new Layout(root);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());

        Map<String, StructType> tables = new LinkedHashMap<>();
        tables.put(layout.corpusPairs(), Tables.CORPUS_PAIRS);
        tables.put(layout.supernetMetrics(), Tables.SUPERNET_METRICS);
        tables.put(layout.evaluations(), Tables.EVALUATIONS);
        tables.put(layout.latencyMeasurements(), Tables.LATENCY_MEASUREMENTS);
        tables.put(layout.latencyRuns(), Tables.LATENCY_RUNS);
        Set<String> folders = new HashSet<>(List.of(layout.checkpoints()));
        Set<String> opaque = new HashSet<>(); // written by libraries (MLlib models), not by us
        for (String ckpt : fs.listIds(layout.checkpoints())) {
            folders.add(Layout.checkpoint(layout.checkpoints(), ckpt).dir());
        }
        for (String hw : fs.listIds(layout.predictors())) {
            Layout.Predictor p = LatencyPredictor.folder(fs, layout, hw); // its committed version
            folders.add(layout.predictor(hw).dir());
            folders.add(p.dir());
            opaque.add(p.model());
            tables.put(p.metrics(), Tables.PREDICTOR_METRICS);
            tables.put(p.predictions(), Tables.PREDICTOR_PREDICTIONS);
        }
        for (String id : fs.listIds(layout.sweeps())) {
            Layout.Sweep s = layout.sweep(id);
            folders.add(s.dir());
            folders.add(s.hat());
            tables.put(s.population(), Tables.SWEEP_POPULATION);
            tables.put(s.best(), Tables.SWEEP_BEST);
            tables.put(s.runs(), Tables.SWEEP_RUNS);
            tables.put(s.front(), Tables.SWEEP_FRONT);
        }
        folders.addAll(List.of(Path.of(layout.corpusVocab("joint")).getParent().toString(),
                Path.of(layout.report()).getParent().toString()));

        // every ancestor of a named path inside the root is a folder of the layout too
        Set<String> named = new HashSet<>(folders);
        for (String p : concat(tables.keySet(), opaque, folders)) {
            for (Path a = Path.of(p).getParent(); a != null && a.startsWith(root) && !a.toString().equals(root); a = a.getParent()) {
                named.add(a.toString());
            }
        }
        List<String> unnamed = new ArrayList<>();
        walk(Path.of(root), tables.keySet(), opaque, named, unnamed);
        assertTrue(unnamed.isEmpty(), "directories no Layout method names: " + unnamed);

        Map<String, String> problems = new TreeMap<>();
        for (Map.Entry<String, StructType> t : tables.entrySet()) {
            assertTrue(fs.exists(t.getKey()), "the small run writes " + t.getKey());
            Map<String, String> want = columns(t.getValue());
            Map<String, String> got = columns(spark.read().parquet(fs.current(t.getKey())).schema());
            if (!want.equals(got)) {
                problems.put(t.getKey(), "declared " + want + ", written " + got);
            }
        }
        assertEquals(Map.of(), problems);
    }

    private static void walk(Path dir, Set<String> tables, Set<String> opaque, Set<String> named, List<String> unnamed)
            throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path c : children.filter(Files::isDirectory).sorted().toList()) {
                String p = c.toString();
                if (Fs.isTemporary(c.getFileName().toString()) || tables.contains(p) || opaque.contains(p)) {
                    continue; // a table's files and partitions, a library's folder, or a temporary being written
                }
                if (!named.contains(p)) {
                    unnamed.add(p);
                    continue;
                }
                walk(c, tables, opaque, named, unnamed);
            }
        }
    }

    /** name → type; partition columns come last when read, so order is not compared. */
    private static Map<String, String> columns(StructType s) {
        Map<String, String> m = new TreeMap<>();
        for (StructField f : s.fields()) {
            m.put(f.name(), f.dataType().simpleString());
        }
        return m;
    }

    @SafeVarargs
    private static List<String> concat(java.util.Collection<String>... parts) {
        List<String> all = new ArrayList<>();
        for (var p : parts) {
            all.addAll(p);
        }
        return all;
    }
}
