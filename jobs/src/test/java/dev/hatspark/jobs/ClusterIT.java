package dev.hatspark.jobs;

import dev.hatspark.jobs.store.Spark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real multi-JVM Spark standalone cluster on localhost: master, worker and two executors in their own JVMs, which
 * have only what a cluster has (Spark and its dependencies) and get our code, DJL and PyTorch from the shaded
 * application jar. The sweep's driver runs from that jar as spark-submit would start it. One executor is killed while
 * it evaluates a generation; the sweep must still finish with a whole, duplicate-free population.
 */
class ClusterIT {
    private final List<Process> daemons = new ArrayList<>();

    @AfterEach
    void stopCluster() {
        daemons.forEach(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
        daemons.forEach(Process::destroyForcibly);
    }

    @Test
    void sweepGenerationRunsOnStandaloneClusterAndSurvivesAnExecutorKill(@TempDir Path tmp) throws Exception {
        String root = tmp.resolve("run").toString();
        prepareRunInProcess(tmp, root);

        Path jar = Path.of(System.getProperty("hat.jar"));
        List<String> sparkJars = Arrays.asList(Files.readString(Path.of(System.getProperty("hat.spark.classpath"))).trim()
                .split(File.pathSeparator));
        Path sparkHome = fakeSparkHome(tmp, sparkJars);
        String cp = sparkHome.resolve("jars") + "/*";
        int masterPort = freePort();
        Path work = tmp.resolve("work");
        Process master = daemon(tmp, "master", List.of("-cp", cp, "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", "" + masterPort, "--webui-port", "" + freePort()), sparkHome);
        awaitLine(tmp.resolve("master.log"), "I have been elected leader", master, 60);
        Process worker = daemon(tmp, "worker", List.of("-cp", cp, "org.apache.spark.deploy.worker.Worker",
                "spark://127.0.0.1:" + masterPort, "--host", "127.0.0.1", "--cores", "2", "--memory", "4g",
                "--work-dir", work.toString(), "--webui-port", "" + freePort()), sparkHome);
        awaitLine(tmp.resolve("worker.log"), "Successfully registered with master", worker, 60);

        // the driver: our jar + the cluster's Spark, configured the way spark-submit would (system properties)
        Path djlCache = tmp.resolve("djl-cache"); // empty: executors must unpack PyTorch from the jar, offline
        List<String> driver = new ArrayList<>(List.of("-Xmx1g", "-cp", jar + File.pathSeparator + cp,
                "-Dspark.master=spark://127.0.0.1:" + masterPort, "-Dspark.jars=" + jar,
                "-Dspark.driver.host=127.0.0.1", "-Dspark.executor.cores=1", "-Dspark.cores.max=2",
                "-Dspark.executor.memory=1200m", "-Dspark.ui.enabled=false", "-Dspark.sql.shuffle.partitions=4",
                "-Dspark.executor.extraJavaOptions=-Dai.djl.offline=true -DDJL_CACHE_DIR=" + djlCache
                        + " -DENGINE_CACHE_DIR=" + djlCache,
                "dev.hatspark.jobs.Hat", "sweep", "--root", root, "--sweep-id", "cluster", "--budgets", "1e9",
                "--population", "8", "--parents", "2", "--mutations", "3", "--crossovers", "3", "--generations", "2",
                "--valid-sentences", "0"));
        Process sweep = daemon(tmp, "driver", driver, sparkHome);

        // kill the first executor caught loading the SuperTransformer: it is inside an evaluation task then, and
        // stays there for seconds (a fresh executor unpacks PyTorch from the jar first)
        Path killed = null;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (killed == null && sweep.isAlive() && System.nanoTime() < deadline) {
            killed = executorLogs(work).filter(log -> contains(log, "executor loading")).findFirst().orElse(null);
            if (killed == null) {
                Thread.sleep(50);
            }
        }
        assertTrue(killed != null, "no executor loaded a model; driver log:\n" + tail(tmp.resolve("driver.log")));
        String execId = killed.getParent().getFileName().toString();
        ProcessHandle executor = executorProcess(worker, execId).orElseThrow();
        executor.destroyForcibly();

        assertTrue(sweep.waitFor(6, TimeUnit.MINUTES), "sweep still running; driver log:\n" + tail(tmp.resolve("driver.log")));
        String driverLog = Files.readString(tmp.resolve("driver.log"));
        assertEquals(0, sweep.exitValue(), tail(tmp.resolve("driver.log")));
        assertTrue(driverLog.contains("Lost task") || driverLog.contains("ExecutorLostFailure"),
                "the kill hit no running task");

        // the per-executor model cache: however many tasks an executor ran, it loaded the checkpoint once
        List<Path> logs = executorLogs(work).toList();
        assertTrue(logs.size() >= 3, "the killed executor was replaced: " + logs);
        for (Path log : logs) {
            long loads = Files.readString(log).lines().filter(l -> l.contains("executor loaded")).count();
            assertTrue(loads <= 1, log + " loaded the model " + loads + " times");
        }
        long tasks = logs.stream().mapToLong(l -> count(l, "Running task")).sum();
        long loads = logs.stream().mapToLong(l -> count(l, "executor loaded")).sum();
        assertTrue(tasks > loads * 2, tasks + " tasks, " + loads + " loads");

        // the population: every generation whole, no config twice in one generation
        System.setProperty("hat.spark.master", "local[2]");
        SparkSession spark = Spark.session("cluster-check");
        try {
            var pop = spark.read().parquet(root + "/sweeps/cluster/population");
            for (Row r : pop.groupBy("generation").count().collectAsList()) {
                assertEquals(8L, r.getLong(1), "generation " + r.get(0));
            }
            assertEquals(2, pop.select("generation").distinct().count());
            assertEquals(pop.count(), pop.select("generation", "config_hash").distinct().count(), "duplicates");
        } finally {
            spark.stop();
        }
    }

    /** Corpus, a two-step supernet, a few latency timings and a predictor: the inputs of a sweep. */
    private static void prepareRunInProcess(Path tmp, String root) throws IOException {
        Path space = tmp.resolve("tiny.yaml");
        Files.writeString(space, PipelineTest.TINY_SPACE);
        System.setProperty("hat.spark.master", "local[2]");
        assertEquals(0, Hat.execute("prepare-corpus", "--root", root, "--limit", "600", "--vocab-size", "300",
                "--valid-fraction", "0.1", "--test-fraction", "0.05"));
        assertEquals(0, Hat.execute("train-supernet", "--root", root, "--space", space.toString(), "--steps", "2",
                "--max-tokens", "512", "--warmup", "1", "--valid-every", "2", "--checkpoint-every", "2"));
        assertEquals(0, Hat.execute("measure-latency", "--root", root, "--samples", "24", "--warmup", "0", "--runs", "2"));
        assertEquals(0, Hat.execute("fit-predictor", "--root", root, "--gbt-iter", "2"));
    }

    /** Standalone daemons build executor command lines from $SPARK_HOME/jars, so give them one. */
    private static Path fakeSparkHome(Path tmp, List<String> jars) throws IOException {
        Path home = tmp.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        for (String j : jars) {
            Path src = Path.of(j);
            if (j.endsWith(".jar")) {
                Files.createSymbolicLink(home.resolve("jars").resolve(src.getFileName()), src);
            }
        }
        return home;
    }

    private Process daemon(Path tmp, String name, List<String> args, Path sparkHome) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(jvmFlags()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        Process p = pb.start();
        daemons.add(p);
        return p;
    }

    private static String[] jvmFlags() {
        // what the surefire/failsafe JVM got: add-opens for Spark on Java 17, DJL offline
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dai.djl")).toArray(String[]::new);
    }

    private static Stream<Path> executorLogs(Path work) throws IOException {
        if (!Files.isDirectory(work)) {
            return Stream.empty();
        }
        try (Stream<Path> s = Files.walk(work, 3)) {
            return s.filter(p -> p.getFileName().toString().equals("stderr")).sorted().toList().stream();
        }
    }

    private static Optional<ProcessHandle> executorProcess(Process worker, String execId) {
        return worker.descendants().filter(h -> {
            List<String> a = Arrays.asList(h.info().arguments().orElse(new String[0]));
            int i = a.indexOf("--executor-id");
            return i >= 0 && i + 1 < a.size() && a.get(i + 1).equals(execId);
        }).findFirst();
    }

    private static void awaitLine(Path log, String text, Process p, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (contains(log, text)) {
                return;
            }
            assertTrue(p.isAlive(), log + " ended:\n" + tail(log));
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + text + "' in " + log + " after " + seconds + " s:\n" + tail(log));
    }

    private static boolean contains(Path log, String text) {
        try {
            return Files.exists(log) && Files.readString(log).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    private static long count(Path log, String text) {
        try {
            return Files.readString(log).lines().filter(l -> l.contains(text)).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no " + log + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
