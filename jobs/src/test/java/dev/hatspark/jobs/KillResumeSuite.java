package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

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
 * {@code -Dkills=N} sets the kills per job (default 3), {@code -Dkill.seed} the seed, {@code -Dkill.jobs} the jobs
 * (default all), {@code -Dkill.appends=false} leaves out the sweep's kills after its evaluations appends.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
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

    /** Uninterrupted run time per job, in ms, and the commits (distinct temporaries) it made. */
    static final Map<String, Long> REFERENCE_MS = new TreeMap<>();
    static final Map<String, Integer> COMMITS = new TreeMap<>();
    /** {@code -Dkill.jobs=sweep,evaluate}: only these jobs (default: all). */
    static final List<String> ONLY = Arrays.stream(System.getProperty("kill.jobs", "").split(",")).filter(s -> !s.isBlank()).toList();

    /**
     * One job under test: the run root it starts from, its arguments (after --root) and the tables and
     * files that must equal.
     */
    record Job(String name, Path base, List<String> args, List<String> tables, List<String> ignoredColumns, List<String> files) {
        /** Where the job's temporaries appear: the run root, the folders holding its tables, checkpoints and subnets. */
        List<String> commitFolders() {
            List<String> out = new ArrayList<>(List.of(".", "latency", "latency/predictor", "supernet", "supernet/checkpoints",
                    "subnets", "subnets/*/inherited", "subnets/*/inherited/checkpoints"));
            tables.forEach(t -> out.add(Path.of(t).getParent().toString()));
            return out.stream().distinct().toList();
        }

        @Override
        public String toString() {
            return name;
        }
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
                sweep(),
                job("train-supernet", List.of("--space", base.resolveSibling("small-run-tiny.yaml").toString(), "--steps", "10", "--max-tokens", "512", "--warmup", "2", "--lr", "0.002",
                                "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "2", "--max-len", "64"),
                        List.of("supernet/metrics"), List.of("tokens_per_s"),
                        List.of("supernet/checkpoints/step-00000010/model.ndlist")),
                job("train-subnet", List.of("--sweep", "small", "--steps", "6", "--max-tokens", "512", "--warmup", "2",
                                "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "2", "--max-len", "64"),
                        List.of(), List.of("tokens_per_s"), List.of()),
                ONLY.isEmpty() || ONLY.contains("evaluate") ? evaluate() : null).filter(a -> a != null && selected(a));
    }

    static Arguments job(String name, List<String> args, List<String> tables, List<String> ignored, List<String> files) {
        return Arguments.of(new Job(name, base, args, tables, ignored, files));
    }

    static Arguments sweep() {
        return job("sweep", List.of("--sweep-id", "killed", "--hardware-id", hw, "--budgets", budgets(), "--population", "8",
                        "--parents", "3", "--mutations", "3", "--crossovers", "2", "--generations", "5", "--max-tokens", "512",
                        "--racing-fraction", "0.2,0.5", "--racing-min-sentences", "8"),
                List.of("sweeps/killed/population", "sweeps/killed/best", "sweeps/killed/front"), List.of(), List.of());
    }

    static boolean selected(Arguments a) {
        return ONLY.isEmpty() || ONLY.contains(((Job) a.get()[0]).name());
    }

    /** evaluate's start: the small run with its sweep's winners fine-tuned for 2 updates (train-subnet, in-process). */
    static Arguments evaluate() {
        Path trained = dir.resolve("trained-base");
        if (!Files.exists(trained)) {
            try {
                PipelineTest.copy(base, trained);
                dev.hatspark.jobs.subnet.TrainSubnet t = SubnetJobsTest.train(trained.toString(), "inherited", 2);
                t.targets.sweepId = "small";
                t.run(spark);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        // measured latencies differ run to run (and so whether a winner meets its budget); BLEU, translations,
        // predictions and the rest must equal
        return Arguments.of(new Job("evaluate", trained, List.of("--sweep", "small", "--max-sentences", "8", "--beam", "2",
                "--latency-warmup", "1", "--latency-runs", "3"), List.of("subnets/results"),
                List.of("measured_latency_ms", "measured_raw_latency_ms", "meets_budget", "evaluated_at"), List.of()));
    }

    /** The 90th percentile budget of the small run's sweep: feasible, so every generation evaluates. */
    static String budgets() {
        Row best = spark.read().parquet(new Fs(spark.sparkContext().hadoopConfiguration())
                .current(base.resolve("sweeps/small/best").toString())).orderBy(new Column("budget_ms").desc()).first();
        return String.valueOf(best.<Double>getAs("budget_ms"));
    }

    /** The uninterrupted run of a job (run once per JVM), how long it took and how many commits it made. */
    static synchronized Path reference(Job job) throws Exception {
        Path reference = dir.resolve(job.name() + "-reference");
        if (!REFERENCE_MS.containsKey(job.name())) {
            PipelineTest.copy(job.base(), reference);
            Commits watch = new Commits(reference, job);
            long t0 = System.nanoTime();
            assertEquals(0, driver(job, reference, Long.MAX_VALUE, () -> watch.poll() < 0), job.name() + " uninterrupted");
            REFERENCE_MS.put(job.name(), (System.nanoTime() - t0) / 1_000_000);
            COMMITS.put(job.name(), watch.seen.size());
        }
        return reference;
    }

    /**
     * The temporary outputs ({@code <target>._tmp-<uuid>}, see {@link Fs#temporary}) in the folders a job
     * commits to: each one is a commit in progress (or one a kill interrupted).
     */
    static final class Commits {
        final Path root;
        final List<String> folders;
        final java.util.Set<String> seen = new java.util.HashSet<>();

        Commits(Path root, Job job) {
            this.root = root;
            this.folders = job.commitFolders();
        }

        /** Temporaries now present; a folder pattern may hold one {@code *} segment. */
        java.util.Set<String> now() {
            java.util.Set<String> out = new java.util.HashSet<>();
            for (String f : folders) {
                int star = f.indexOf('*');
                List<Path> dirs = new ArrayList<>();
                if (star < 0) {
                    dirs.add(root.resolve(f));
                } else {
                    for (String name : list(root.resolve(f.substring(0, star)))) {
                        dirs.add(root.resolve(f.substring(0, star) + name + f.substring(star + 1)));
                    }
                }
                for (Path d : dirs) {
                    list(d).stream().filter(n -> n.contains("._tmp-")).forEach(n -> out.add(d + "/" + n));
                }
            }
            return out;
        }

        /** Records the temporaries present now; returns how many distinct ones were seen so far. */
        int poll() {
            seen.addAll(now());
            return seen.size();
        }

        private static List<String> list(Path d) {
            try (Stream<Path> s = Files.list(d)) {
                return s.map(p -> p.getFileName().toString()).toList();
            } catch (IOException e) {
                return List.of(); // not there (yet)
            }
        }
    }

    /**
     * Kills alternate between a seeded random moment of the uninterrupted run's time and a seeded random
     * commit: a seeded 0-300 ms after the n-th temporary output of the job first appeared (n seeded among
     * the commits the uninterrupted run made), which lands in Spark's write of a temporary, its rename,
     * or just after. Counted as "during a commit" are the kills that left a temporary behind.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("jobs")
    @org.junit.jupiter.api.Order(2)
    void killedAndResumedEqualsUninterrupted(Job job) throws Exception {
        long t0 = System.nanoTime();
        Path reference = reference(job);
        long millis = REFERENCE_MS.get(job.name());
        int commits = COMMITS.get(job.name());
        SplittableRandom rng = new SplittableRandom(SEED + job.name().hashCode());
        List<String> unequal = new ArrayList<>();
        int killed = 0;
        int inCommit = 0;
        for (int k = 0; k < KILLS; k++) {
            Path run = dir.resolve(job.name() + "-kill-" + k);
            PipelineTest.copy(job.base(), run);
            Commits watch = new Commits(run, job);
            String when;
            int exit;
            if (k % 2 == 0) { // a moment between JVM start and the end of the uninterrupted run
                long at = 2_000 + rng.nextLong(Math.max(1, millis - 2_000));
                when = "at " + at + " ms";
                exit = driver(job, run, at, () -> false);
            } else {
                int n = 1 + rng.nextInt(Math.max(1, commits));
                long delayNs = TimeUnit.MILLISECONDS.toNanos(rng.nextInt(300));
                when = (delayNs / 1_000_000) + " ms after commit " + n + " of " + commits + " began";
                long[] seenAt = {0};
                exit = driver(job, run, Long.MAX_VALUE - 1, () -> {
                    if (seenAt[0] == 0 && watch.poll() >= n) {
                        seenAt[0] = System.nanoTime();
                    }
                    return seenAt[0] != 0 && System.nanoTime() - seenAt[0] >= delayNs;
                });
            }
            killed += exit == 137 ? 1 : 0;
            boolean leftTemporary = exit == 137 && !watch.now().isEmpty();
            inCommit += leftTemporary ? 1 : 0;
            assertEquals(0, driver(job, run, Long.MAX_VALUE, () -> false), job.name() + " resumed after a kill " + when);
            String diff = differences(job, reference, run);
            if (!diff.isEmpty()) {
                unequal.add("kill " + when + (leftTemporary ? " (in a commit)" : "") + ": " + diff);
            }
            SmallRun.delete(run);
        }
        SUMMARY.put(job.name(), killed + " of " + KILLS + " killed mid-run, " + inCommit + " of them in a commit (uninterrupted "
                + millis + " ms, " + commits + " commits; " + (System.nanoTime() - t0) / 1_000_000_000 + " s in all) | "
                + (KILLS - unequal.size()) + " of " + KILLS + (unequal.isEmpty() ? "" : ": " + unequal));
        System.out.println("| " + job.name() + " | " + SUMMARY.get(job.name()) + " |"); // also when a later job times out
        assertTrue(unequal.isEmpty(), job.name() + ": " + unequal);
    }

    /**
     * The sweep killed right after its n-th append to evaluations/ (racing: a generation's first stage,
     * its second, then its promotions' full-set losses), before the generation reaches population/: the
     * resumed sweep must still write what an uninterrupted one writes, cache_hit and tokens included.
     */
    @ParameterizedTest(name = "sweep killed after evaluations append {0}")
    @org.junit.jupiter.api.Order(1)
    @ValueSource(ints = {1, 2, 3})
    void sweepKilledRightAfterAnEvaluationAppend(int n) throws Exception {
        Assumptions.assumeTrue(selected(sweep()) && Boolean.parseBoolean(System.getProperty("kill.appends", "true")));
        Job job = (Job) sweep().get()[0];
        Path reference = reference(job);
        Path run = dir.resolve("sweep-append-" + n);
        PipelineTest.copy(job.base(), run);
        long before = parquetFiles(run.resolve("evaluations"));
        assertEquals(137, driver(job, run, Long.MAX_VALUE - 1, () -> parquetFiles(run.resolve("evaluations")) >= before + n));
        assertEquals(0, driver(job, run, Long.MAX_VALUE, () -> false), "resumed");
        String diff = differences(job, reference, run);
        String label = "sweep, killed after evaluations append " + n;
        SUMMARY.put(label, diff.isEmpty() ? "equal" : diff);
        System.out.println("| " + label + " | " + SUMMARY.get(label) + " |");
        assertEquals("", diff);
    }

    static long parquetFiles(Path table) {
        try (Stream<Path> s = Files.list(table)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).count();
        } catch (IOException e) {
            return 0; // not there yet
        }
    }

    /**
     * Runs the job in its own JVM; kills it with SIGKILL after {@code killAfterMs} or as soon as {@code killWhen}
     * holds (polled every 2 ms); returns the exit code (137 when killed).
     */
    static int driver(Job job, Path root, long killAfterMs, java.util.function.BooleanSupplier killWhen) throws Exception {
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
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(killAfterMs, TimeUnit.MINUTES.toMillis(20)));
        while (!p.waitFor(2, TimeUnit.MILLISECONDS)) {
            if (System.nanoTime() > deadline || killWhen.getAsBoolean()) {
                p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
                p.waitFor();
                assertTrue(killAfterMs != Long.MAX_VALUE, job.name() + " did not finish in 20 minutes");
                return 137;
            }
        }
        return p.exitValue();
    }

    /** What differs between the reference and the resumed run (empty when nothing does). */
    static String differences(Job job, Path reference, Path run) throws IOException {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        List<String> diffs = new ArrayList<>();
        List<String> tables = new ArrayList<>(job.tables());
        if (job.name().equals("train-subnet") || job.name().equals("evaluate")) {
            String table = job.name().equals("evaluate") ? "inherited/translations" : "inherited/metrics";
            try (Stream<Path> s = Files.list(reference.resolve("subnets"))) {
                for (Path hash : s.filter(p -> Files.isDirectory(p.resolve("inherited"))).sorted().toList()) {
                    tables.add(reference.relativize(hash.resolve(table)).toString());
                }
            }
        }
        for (String t : tables) {
            // paths into the run root (evaluate's checkpoint column) compared relative to it
            List<String> a = rows(resolve(fs, reference, t), job.ignoredColumns()).stream()
                    .map(r -> r.replace(reference.toString(), "<root>")).sorted().toList();
            List<String> b = rows(resolve(fs, run, t), job.ignoredColumns()).stream()
                    .map(r -> r.replace(run.toString(), "<root>")).sorted().toList();
            // as an analyst reads it: the table's folder, or the predictor's glob latency/predictor/*/v-*/<table>
            List<String> direct = rows(run.resolve(t.replaceFirst("^(latency/predictor/[^/]+/)", "$1v-*/")).toString(),
                    job.ignoredColumns()).stream().map(r -> r.replace(run.toString(), "<root>")).sorted().toList();
            if (!a.equals(b)) {
                List<String> onlyA = a.stream().filter(r -> !b.contains(r)).limit(2).toList();
                List<String> onlyB = b.stream().filter(r -> !a.contains(r)).limit(2).toList();
                diffs.add(t + ": " + a.size() + " rows vs " + b.size() + " resumed" + (a.size() == b.size() ? " (values differ)" : "")
                        + "; uninterrupted only " + onlyA + ", resumed only " + onlyB);
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
