package dev.hatspark.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The application jar as a cluster gets it: what it must carry, what it must leave to the cluster, and that it runs. */
class ShadedJarIT {
    private static final Path JAR = Path.of(System.getProperty("hat.jar", "target/hat-jobs.jar"));

    /** Packages the cluster brings in its own versions: a second copy in our jar would clash (or be shadowed). */
    private static final List<String> CLUSTER_OWNED = List.of("org/apache/spark/", "org/apache/hadoop/", "scala/",
            "org/slf4j/", "org/apache/log4j/", "org/apache/logging/", "com/fasterxml/jackson/", "org/yaml/snakeyaml/",
            "com/google/gson/", "com/google/protobuf/", "com/google/common/", "org/apache/commons/", "com/amazonaws/",
            "software/amazon/", "net/razorvine/");

    @Test
    void carriesDjlAndItsLinuxNativesButNothingTheClusterOwns() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            List<String> names = Collections.list(jar.entries()).stream().map(ZipEntry::getName).toList();
            for (String prefix : CLUSTER_OWNED) {
                List<String> clash = names.stream().filter(n -> n.startsWith(prefix)).limit(3).toList();
                assertTrue(clash.isEmpty(), "the jar carries cluster-owned classes: " + clash);
            }
            for (String needed : List.of("dev/hatspark/jobs/Hat.class", "dev/hatspark/model/SuperTransformer.class",
                    "ai/djl/pytorch/engine/PtEngine.class", "pytorch/cpu/linux-x86_64/libtorch_cpu.so",
                    "jnilib/linux-x86_64/cpu/libdjl_torch.so", "native/lib/pytorch.properties",
                    "dev/hatspark/shaded/jackson/databind/ObjectMapper.class", "spaces/demo.yaml",
                    "corpus/bible-kjv-rv1909.en-es.tsv.gz", "picocli/CommandLine.class")) {
                assertNotNull(jar.getEntry(needed), needed + " missing");
            }
            assertTrue(names.stream().noneMatch(n -> n.startsWith("jnilib/osx") || n.startsWith("jnilib/win")
                    || n.contains("/cu1")), "non-Linux or CUDA natives in the jar");
            assertEquals("dev.hatspark.jobs.Hat", jar.getManifest().getMainAttributes().getValue("Main-Class"));
            // relocation rewrote the references too, not only the class files: our code and DJL name only the copies;
            // and a reference relocated to a library the jar does not carry (one the cluster provides) fails only when run
            java.util.regex.Pattern shaded = java.util.regex.Pattern.compile("dev/hatspark/shaded/[A-Za-z0-9_/$]+");
            java.util.Set<String> packages = new java.util.HashSet<>(); // every folder of every entry
            for (String n : names) {
                for (int i = n.indexOf('/'); i > 0; i = n.indexOf('/', i + 1)) {
                    packages.add(n.substring(0, i));
                }
            }
            java.util.Set<String> missing = new java.util.TreeSet<>();
            for (String n : names) {
                if (n.endsWith(".class") && !n.startsWith("dev/hatspark/shaded/")
                        && (n.startsWith("dev/hatspark/") || n.startsWith("ai/djl/"))) {
                    String bytes = new String(jar.getInputStream(jar.getEntry(n)).readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(!bytes.contains("com/fasterxml/jackson") && !bytes.contains("com/google/gson/"),
                            n + " still refers to an unrelocated Jackson or Gson");
                    if (n.startsWith("dev/hatspark/")) {
                        var m = shaded.matcher(bytes);
                        while (m.find()) {
                            String ref = m.group();
                            if (jar.getEntry(ref + ".class") == null && !packages.contains(ref)) {
                                missing.add(n + " → " + ref);
                            }
                        }
                    }
                }
            }
            assertNotNull(jar.getEntry("META-INF/services/dev.hatspark.shaded.jackson.core.JsonFactory"));
            assertTrue(missing.isEmpty(), "relocated references to classes the jar lacks: " + missing);
        }
    }

    /** The jar next to nothing but Spark's jars runs a job that loads PyTorch from it, with no network. */
    @Test
    void runsAJobWithOnlySparkBesideIt(@TempDir Path tmp) throws Exception {
        String spark = Files.readString(Path.of(System.getProperty("hat.spark.classpath",
                "target/spark-classpath.txt"))).trim();
        String root = tmp.resolve("run").toString();
        Path space = tmp.resolve("tiny.yaml");
        Files.writeString(space, PipelineTest.TINY_SPACE);
        run(tmp, "prepare-corpus", "--root", root, "--limit", "300", "--vocab-size", "200");
        String out = run(tmp, "train-supernet", "--root", root, "--space", space.toString(), "--steps", "1",
                "--max-tokens", "256", "--warmup", "1", "--valid-every", "1", "--checkpoint-every", "1");
        assertTrue(out.contains("train-supernet done"), out);
        assertTrue(Files.isDirectory(Path.of(root, "supernet", "checkpoints", "step-00000001")), out);
    }

    private static String run(Path tmp, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).forEach(cmd::add);
        String spark = Files.readString(Path.of(System.getProperty("hat.spark.classpath",
                "target/spark-classpath.txt"))).trim();
        cmd.addAll(List.of("-Xmx1g", "-Dai.djl.offline=true", "-DDJL_CACHE_DIR=" + tmp.resolve("djl"),
                "-DENGINE_CACHE_DIR=" + tmp.resolve("djl"), "-Dhat.spark.master=local[2]",
                "-cp", JAR + File.pathSeparator + spark, "dev.hatspark.jobs.Hat"));
        cmd.addAll(List.of(args));
        Path log = tmp.resolve(args[0] + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), args[0] + " hung");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
