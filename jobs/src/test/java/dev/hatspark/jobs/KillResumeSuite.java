package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suite (Maven profile {@code reliability}; not a *Test, so not in the default build): each
 * job that commits output runs as its own driver JVM ({@code java -cp <test classpath> Hat ...}) on a
 * copy of a small trained run root, is SIGKILLed at seeded random moments, is started again to the end,
 * and its outputs are compared with an uninterrupted run's: table rows (sorted, minus wall-clock
 * columns), checkpoint weights byte for byte, no row twice or missing, and nothing a reader would pick
 * up besides the committed data (a direct recursive read of every table folder equals the jobs' read).
 * {@code -Dkills=N} sets the kills per job (default 3), {@code -Dkill.seed} the seed.
 */
class KillResumeSuite {
    static final int KILLS = Integer.getInteger("kills", 3);
    static final long SEED = Long.getLong("kill.seed", 17);
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path base;
    static Path csv;
    static String hw;
    static final Map<String, String> SUMMARY = new TreeMap<>();
    /** In a job's ignored columns: compare only which configs a table holds (timings differ run to run). */
    static final String KEYS_ONLY = "(keys only)";

    /** One job under test: its arguments (after --root) and the tables and files that must equal. */
    record Job(String name, List<String> args, List<String> tables, List<String> ignoredColumns, List<String> files) {
    }

    @BeforeAll
    static void build() throws Exception {
        spark = SmallRun.spark();
        base = Path.of(SmallRun.root(spark));
        hw = Hardware.localId(spark);
        csv = dir.resolve("edge.csv");
        Files.writeString(csv, ImportLatencyTest.hatFormat(DesignSpace.builtin("hat-wmt14"), 400, 3));
    }

    @AfterAll
    static void report() {
        System.out.println("| job | kills | resumed equal |");
        SUMMARY.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
    }

    static Stream<Arguments> jobs() {
        return Stream.of(
                job("import-latency", List.of("--hardware-id", "edge-box", csv.toString()),
                        List.of("latency/measurements"), List.of(), List.of()),
                // 30 more configs in chunks of 5 after the 40 of the small run; timings differ run to run, so
                // compared are which configs were measured (once each), not their milliseconds
                job("measure-latency", List.of("--samples", "70", "--chunk", "5", "--src-len", "8", "--decoder-steps", "8",
                                "--warmup", "1", "--runs", "5"),
                        List.of("latency/measurements"), List.of(KEYS_ONLY), List.of()),
                job("fit-predictor", List.of("--hardware-id", hw, "--hidden", "8", "--max-iter", "30", "--gbt-iter", "3"),
                        List.of("latency/predictor/" + hw + "/metrics", "latency/predictor/" + hw + "/predictions"),
                        List.of(), List.of()),
                job("sweep", List.of("--sweep-id", "killed", "--hardware-id", hw, "--budgets", budgets(), "--population", "8",
                                "--parents", "3", "--mutations", "3", "--crossovers", "2", "--generations", "5", "--max-tokens", "512"),
                        List.of("sweeps/killed/population", "sweeps/killed/best"), List.of(), List.of()),
                job("train-supernet", List.of("--space", base.resolveSibling("small-run-tiny.yaml").toString(), "--steps", "10", "--max-tokens", "512", "--warmup", "2", "--lr", "0.002",
                                "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "2", "--max-len", "64"),
                        List.of("supernet/metrics"), List.of("tokens_per_s"),
                        List.of("supernet/checkpoints/step-00000010/model.ndlist")),
                job("train-subnet", List.of("--sweep", "small", "--steps", "6", "--max-tokens", "512", "--warmup", "2",
                                "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "2", "--max-len", "64"),
                        List.of(), List.of("tokens_per_s"), List.of()));
    }

    static Arguments job(String name, List<String> args, List<String> tables, List<String> ignored, List<String> files) {
        return Arguments.of(new Job(name, args, tables, ignored, files));
    }

    /** The 90th percentile budget of the small run's sweep: feasible, so every generation evaluates. */
    static String budgets() {
        Row best = spark.read().parquet(new Fs(spark.sparkContext().hadoopConfiguration())
                .current(base.resolve("sweeps/small/best").toString())).orderBy(new Column("budget_ms").desc()).first();
        return String.valueOf(best.<Double>getAs("budget_ms"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jobs")
    void killedAndResumedEqualsUninterrupted(Job job) throws Exception {
        Path reference = dir.resolve(job.name() + "-reference");
        PipelineTest.copy(base, reference);
        long t0 = System.nanoTime();
        assertEquals(0, driver(job, reference, Long.MAX_VALUE), job.name() + " uninterrupted");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        SplittableRandom rng = new SplittableRandom(SEED + job.name().hashCode());
        List<String> unequal = new ArrayList<>();
        int killed = 0;
        for (int k = 0; k < KILLS; k++) {
            Path run = dir.resolve(job.name() + "-kill-" + k);
            PipelineTest.copy(base, run);
            // a moment between JVM start and the end of the uninterrupted run: before, during and after commits
            long at = 2_000 + rng.nextLong(Math.max(1, millis - 2_000));
            int exit = driver(job, run, at);
            killed += exit == 137 ? 1 : 0;
            assertEquals(0, driver(job, run, Long.MAX_VALUE), job.name() + " resumed after a kill at " + at + " ms");
            String diff = differences(job, reference, run);
            if (!diff.isEmpty()) {
                unequal.add("kill at " + at + " ms: " + diff);
            }
            SmallRun.delete(run);
        }
        SUMMARY.put(job.name(), killed + " of " + KILLS + " killed mid-run (uninterrupted " + millis + " ms) | "
                + (KILLS - unequal.size()) + " of " + KILLS + (unequal.isEmpty() ? "" : ": " + unequal));
        System.out.println("| " + job.name() + " | " + SUMMARY.get(job.name()) + " |"); // also when a later job times out
        assertTrue(unequal.isEmpty(), job.name() + ": " + unequal);
    }

    /** Runs the job in its own JVM; kills it with SIGKILL after {@code killAfterMs}; returns the exit code (137 when killed). */
    static int driver(Job job, Path root, long killAfterMs) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dai.djl")).toList());
        cmd.addAll(List.of("-Dhat.spark.master=local[2]", "-cp", System.getProperty("java.class.path"), Hat.class.getName(),
                job.name(), "--root", root.toString()));
        cmd.addAll(job.args());
        Path log = root.resolveSibling(root.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (killAfterMs == Long.MAX_VALUE) {
            assertTrue(p.waitFor(20, TimeUnit.MINUTES), job.name() + " did not finish");
            return p.exitValue();
        }
        if (!p.waitFor(killAfterMs, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
            p.waitFor();
            return 137;
        }
        return p.exitValue();
    }

    /** What differs between the reference and the resumed run (empty when nothing does). */
    static String differences(Job job, Path reference, Path run) throws IOException {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        List<String> diffs = new ArrayList<>();
        List<String> tables = new ArrayList<>(job.tables());
        if (job.name().equals("train-subnet")) {
            try (Stream<Path> s = Files.list(reference.resolve("subnets"))) {
                for (Path hash : s.filter(Files::isDirectory).toList()) {
                    tables.add(reference.relativize(hash.resolve("inherited/metrics")).toString());
                }
            }
        }
        for (String t : tables) {
            List<String> a = rows(resolve(fs, reference, t), job.ignoredColumns());
            List<String> b = rows(resolve(fs, run, t), job.ignoredColumns());
            // as an analyst reads it: the table's folder, or the predictor's glob latency/predictor/*/v-*/<table>
            List<String> direct = rows(run.resolve(t.replaceFirst("^(latency/predictor/[^/]+/)", "$1v-*/")).toString(),
                    job.ignoredColumns());
            if (!a.equals(b)) {
                diffs.add(t + ": " + a.size() + " rows vs " + b.size() + " resumed" + (a.size() == b.size() ? " (values differ)" : ""));
            }
            if (!direct.equals(b)) {
                diffs.add(t + ": a direct read of the folder sees " + direct.size() + " rows, the jobs' read " + b.size());
            }
            if (b.stream().distinct().count() != b.size()) {
                diffs.add(t + ": duplicate rows");
            }
        }
        for (String f : job.files()) {
            if (!Arrays.equals(Files.readAllBytes(reference.resolve(f)), Files.readAllBytes(run.resolve(f)))) {
                diffs.add(f + ": bytes differ");
            }
        }
        if (job.name().equals("train-subnet")) {
            try (Stream<Path> s = Files.walk(reference.resolve("subnets"))) {
                for (Path w : s.filter(p -> p.getFileName().toString().equals("model.ndlist")).toList()) {
                    Path other = run.resolve(reference.relativize(w));
                    if (!Files.exists(other) || !Arrays.equals(Files.readAllBytes(w), Files.readAllBytes(other))) {
                        diffs.add(reference.relativize(w) + ": bytes differ");
                    }
                }
            }
        }
        return String.join("; ", diffs);
    }

    /** The path the jobs read a table of the run root at: inside the committed version of a predictor folder. */
    static String resolve(Fs fs, Path root, String table) {
        var m = java.util.regex.Pattern.compile("latency/predictor/([^/]+)/(.+)").matcher(table);
        if (m.matches()) {
            return dev.hatspark.jobs.latency.LatencyPredictor.folder(fs, new dev.hatspark.jobs.store.Layout(root.toString()),
                    m.group(1)).dir() + "/" + m.group(2);
        }
        return fs.current(root.resolve(table).toString());
    }

    /** A table's rows as strings, sorted, without the columns that differ from run to run. */
    static List<String> rows(String path, List<String> ignored) {
        Dataset<Row> t = spark.read().parquet(path);
        for (String c : ignored) {
            t = t.drop(c);
        }
        if (ignored.contains(KEYS_ONLY)) {
            t = t.select("hardware_id", "config_hash"); // measure-latency: which configs, not their timings
        }
        return t.collectAsList().stream().map(Row::toString).sorted().toList();
    }
}
