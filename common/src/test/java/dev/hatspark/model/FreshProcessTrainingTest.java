package dev.hatspark.model;

import ai.djl.ndarray.NDManager;
import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same seed and input give bit-identical weights, optimizer state and metrics in fresh JVMs. The two
 * JVMs are made to differ where a process can differ: garbage collector, heap size, native memory layout
 * (direct buffers of odd sizes allocated first, so JVM-allocated tensor data sits at other alignments) and
 * garbage collections during training.
 */
class FreshProcessTrainingTest {
    static final String SPACE = """
            name: repro
            qkv_dim: 64
            dropout: 0.1
            encoder: {embed_dim: [32, 64], layer_num: [1, 2], ffn_embed_dim: [64, 128], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [32, 64], layer_num: [1, 2], ffn_embed_dim: [64, 128], self_attention_heads: [2, 4],
                      ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
            """;
    static final int VOCAB = 700;

    @TempDir
    Path dir;

    @Test
    void twoFreshProcessesTrainBitIdentically() throws Exception {
        String a = child(1, false, "-XX:+UseSerialGC", "-Xmx512m");
        String b = child(1, true, "-XX:+UseParallelGC", "-Xmx1g");
        assertTrue(a.contains("weights ") && a.contains("metrics "), a);
        assertEquals(a, b, "same seed and input in two JVMs");
        // the comparison can fail: another seed trains other weights
        assertNotEquals(a, child(2, false, "-XX:+UseSerialGC", "-Xmx512m"));
    }

    /** Runs {@link #main} in a fresh JVM with the test classpath; returns what it printed to its result file. */
    private String child(long seed, boolean perturb, String... jvmFlags) throws IOException, InterruptedException {
        Path out = dir.resolve("result-" + seed + "-" + perturb + ".txt");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmFlags));
        // the test JVM's own flags (add-opens, DJL offline), minus its heap and GC choice
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(f -> f.startsWith("--add-opens") || f.startsWith("-Dai.djl"))
                .forEach(cmd::add);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FreshProcessTrainingTest.class.getName(),
                Long.toString(seed), Boolean.toString(perturb), out.toString()));
        Path log = dir.resolve("child-" + seed + "-" + perturb + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "child JVM timed out");
        assertEquals(0, p.exitValue(), () -> "child JVM failed:\n" + read(log));
        return Files.readString(out);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Child: trains 12 updates on a synthetic corpus; writes SHA-256 of weights and Adam state, and the metrics. */
    public static void main(String[] args) throws Exception {
        long seed = Long.parseLong(args[0]);
        boolean perturb = Boolean.parseBoolean(args[1]);
        List<ByteBuffer> ballast = new ArrayList<>();
        if (perturb) {
            for (int i = 1; i <= 37; i++) {
                ballast.add(ByteBuffer.allocateDirect(i * 13 + 5));
            }
        }
        DesignSpace space = DesignSpace.parse(SPACE, "repro.yaml");
        List<int[][]> train = pairs(new Random(seed * 17), 400);
        List<int[][]> valid = pairs(new Random(99), 40);
        StringBuilder metrics = new StringBuilder();
        String weights;
        try (NDManager root = NDManager.newBaseManager();
             SuperTransformer model = SuperTransformer.create(space, VOCAB, VOCAB, seed, root);
             Adam adam = Adam.hat(root)) {
            SubnetEvaluator eval = new SubnetEvaluator(model, Batches.byTokens(valid, 1024));
            SupernetTrainer.Options opt = new SupernetTrainer.Options(12, 2e-3f, 4, 0.1f, seed, 6, 6, 3, 0f);
            List<SupernetTrainer.Metrics> rows = new SupernetTrainer(opt).train(model, adam, Batches.byTokens(train, 1024),
                    eval, 0, List.of(), (step, m, a, r) -> {
                        if (perturb) {
                            System.gc();
                        }
                    });
            for (SupernetTrainer.Metrics r : rows) {
                metrics.append(r.step()).append(':').append(r.trainLoss() == null ? "-" : Double.doubleToLongBits(r.trainLoss()))
                        .append(',').append(Double.doubleToLongBits(r.validLossLargest()))
                        .append(',').append(Double.doubleToLongBits(r.validLossSmallest())).append(' ');
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(model.parameters().encode());
            sha.update(adam.state().encode());
            weights = HexFormat.of().formatHex(sha.digest());
        }
        Files.writeString(Path.of(args[2]), "weights " + weights + "\nmetrics " + metrics + "\n");
        ballast.clear();
    }

    /** Sentence pairs of 1..30 tokens with ids 4..VOCAB-1 (not the special tokens). */
    private static List<int[][]> pairs(Random rng, int n) {
        List<int[][]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] src = rng.ints(1 + rng.nextInt(30), 4, VOCAB).toArray();
            int[] tgt = rng.ints(1 + rng.nextInt(30), 4, VOCAB).toArray();
            out.add(new int[][] {src, tgt});
        }
        return out;
    }
}
