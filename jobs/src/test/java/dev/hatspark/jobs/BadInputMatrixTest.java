package dev.hatspark.jobs;

import dev.hatspark.space.DesignSpace;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every job against malformed input of its kind, through the CLI entry point as a user runs it: exit
 * code 1, one line on stderr (console and every WARN/ERROR log line the user would see) that names
 * the file or field, no stack frame, and the run root byte-for-byte as it was. Each case runs on its
 * own copy of one small trained run root ({@link SmallRun}).
 */
class BadInputMatrixTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path base;
    /** The corpus of another vocabulary (another BPE size) than the base root's checkpoint. */
    static Path otherVocabRoot;
    /** A predictor fitted on latencies of HAT's space, not the base root's supernet space. */
    static Path otherSpaceRoot;
    static final String OTHER_HW = "hat-space-box";

    /** One malformed input: prepares it under {@code in} (and may damage the copied root), returns the CLI args. */
    interface Case {
        String[] prepare(Path root, Path in) throws Exception;
    }

    @BeforeAll
    static void build() throws Exception {
        spark = SmallRun.spark();
        base = Path.of(SmallRun.root(spark));
        otherVocabRoot = dir.resolve("other-vocab");
        assertEquals(0, Hat.execute("prepare-corpus", "--root", otherVocabRoot.toString(), "--limit", "300",
                "--vocab-size", "150", "--valid-fraction", "0.1", "--test-fraction", "0.1"));
        otherSpaceRoot = dir.resolve("other-space");
        Path csv = dir.resolve("hat.csv");
        Files.writeString(csv, ImportLatencyTest.hatFormat(DesignSpace.builtin("hat-wmt14"), 40, 1));
        assertEquals(0, Hat.execute("import-latency", "--root", otherSpaceRoot.toString(), "--hardware-id", OTHER_HW, csv.toString()));
        assertEquals(0, Hat.execute("fit-predictor", "--root", otherSpaceRoot.toString(), "--hardware-id", OTHER_HW,
                "--hidden", "4", "--max-iter", "5", "--gbt-iter", "2"));
    }

    static Stream<Arguments> cases() {
        String tsvHeader = "ref\tsrc\ttgt\n";
        String csvHeader = "encoder_embed_dim,encoder_layer_num,encoder_ffn_embed_dim_avg,encoder_self_attention_heads_avg,"
                + "decoder_embed_dim,decoder_layer_num,decoder_ffn_embed_dim_avg,decoder_self_attention_heads_avg,"
                + "decoder_ende_attention_heads_avg,decoder_arbitrary_ende_attn_avg,"
                + "latency_mean_encoder,latency_mean_decoder,latency_std_encoder,latency_std_decoder\n";
        String csvRow = "640,6,3072,8,640,6,3072,8,8,1,%s,20.5,0.1,0.2\n";
        return Stream.of(
                // prepare-corpus
                of("corpus: truncated gzip", "corpus.tsv.gz: cannot read past line", (root, in) -> {
                    byte[] gz = S3PipelineTest.gzip(tsvHeader + pairs(3000));
                    return corpus(root, write(in, "corpus.tsv.gz", java.util.Arrays.copyOf(gz, gz.length / 2)));
                }),
                of("corpus: corrupt gzip", "corpus.tsv.gz: ", (root, in) -> {
                    byte[] gz = S3PipelineTest.gzip(tsvHeader + pairs(3000));
                    for (int i = gz.length / 3; i < gz.length / 3 + 64; i++) {
                        gz[i] ^= 0x5a;
                    }
                    return corpus(root, write(in, "corpus.tsv.gz", gz));
                }),
                of("corpus: empty file", "corpus.tsv: line 1 must be the header", (root, in) ->
                        corpus(root, write(in, "corpus.tsv", new byte[0]))),
                of("corpus: header only", "corpus.tsv: 0 pairs split into 0 train / 0 valid / 0 test", (root, in) ->
                        corpus(root, write(in, "corpus.tsv", tsvHeader))),
                of("corpus: too few pairs for three splits", "pairs split into", (root, in) ->
                        corpus(root, write(in, "corpus.tsv", tsvHeader + pairs(3)))),
                of("corpus: binary garbage", "garbage.tsv", (root, in) ->
                        corpus(root, write(in, "garbage.tsv", garbage(100_000)))),
                of("corpus: not UTF-8", "latin1.tsv: && is not UTF-8 text", (root, in) -> {
                    byte[] text = (tsvHeader + "a\tgood\tbueno\nb\tcaf\u00e9\tcaf\u00e9\n").getBytes(StandardCharsets.ISO_8859_1);
                    return corpus(root, write(in, "latin1.tsv", text));
                }),
                of("corpus: a 10 MB line", "huge.tsv: row", (root, in) ->
                        corpus(root, write(in, "huge.tsv", tsvHeader + "x".repeat(10 << 20) + "\n" + pairs(50)))),
                of("corpus: src/tgt files not UTF-8", "src.txt: && is not UTF-8 text", (root, in) -> new String[] {
                        "prepare-corpus", "--root", root.toString(),
                        "--src-file", write(in, "src.txt", "good\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1)).toString(),
                        "--tgt-file", write(in, "tgt.txt", "bueno\ncafe\n").toString()}),
                // import-latency
                of("latency CSV: NaN", "column 'latency_mean_encoder'", (root, in) ->
                        latency(root, write(in, "nan.csv", csvHeader + String.format(csvRow, "NaN")))),
                of("latency CSV: infinite", "column 'latency_mean_encoder'", (root, in) ->
                        latency(root, write(in, "inf.csv", csvHeader + String.format(csvRow, "Infinity")))),
                of("latency CSV: negative", "column 'latency_mean_encoder'", (root, in) ->
                        latency(root, write(in, "neg.csv", csvHeader + String.format(csvRow, "-1.5")))),
                of("latency CSV: empty", "empty.csv", (root, in) -> latency(root, write(in, "empty.csv", ""))),
                of("latency CSV: header only", "header.csv: no measurement rows", (root, in) -> latency(root, write(in, "header.csv", csvHeader))),
                of("latency CSV: binary garbage", "garbage.csv", (root, in) ->
                        latency(root, write(in, "garbage.csv", garbage(50_000)))),
                of("latency CSV: a 10 MB line", "huge.csv", (root, in) ->
                        latency(root, write(in, "huge.csv", csvHeader + "9".repeat(10 << 20) + "\n"))),
                // design-space YAML
                of("space YAML: wrong type", "wrong.yaml", (root, in) -> train(root,
                        write(in, "wrong.yaml", PipelineTest.TINY_SPACE.replace("embed_dim: [16, 32], layer_num: [1, 2], ffn",
                                "embed_dim: [sixteen, 32], layer_num: [1, 2], ffn")))),
                of("space YAML: out-of-range dimension", "negative.yaml", (root, in) -> train(root,
                        write(in, "negative.yaml", PipelineTest.TINY_SPACE.replace("ffn_embed_dim: [32, 64]", "ffn_embed_dim: [-32, 64]")))),
                of("space YAML: binary garbage", "garbage.yaml", (root, in) -> train(root, write(in, "garbage.yaml", garbage(4096)))),
                // sweep budgets
                of("budget zero", "--budgets", (root, in) -> sweep(root, "0")),
                of("budget negative", "--budgets", (root, in) -> sweep(root, "-20")),
                of("budget NaN", "--budgets", (root, in) -> sweep(root, "NaN")),
                // checkpoints, vocabularies, predictors
                of("checkpoint weights truncated", "model.ndlist: && truncated or corrupt", (root, in) -> {
                    Path weights = root.resolve("supernet/checkpoints/step-00000004/model.ndlist");
                    byte[] b = Files.readAllBytes(weights);
                    Files.write(weights, java.util.Arrays.copyOf(b, b.length / 2));
                    return trainResumed(root);
                }),
                of("checkpoint weights truncated, no checksum file", "model.ndlist: && truncated or corrupt", (root, in) -> {
                    Path weights = root.resolve("supernet/checkpoints/step-00000004/model.ndlist");
                    Files.delete(weights.resolveSibling(".model.ndlist.crc")); // as on S3: DJL's decoding fails instead
                    byte[] b = Files.readAllBytes(weights);
                    Files.write(weights, java.util.Arrays.copyOf(b, b.length / 2));
                    return trainResumed(root);
                }),
                of("corpus and checkpoint of different vocabularies", "was trained with another vocabulary", (root, in) -> {
                    SmallRun.delete(root.resolve("corpus"));
                    PipelineTest.copy(otherVocabRoot.resolve("corpus"), root.resolve("corpus"));
                    return new String[] {"eval-subnet", "--root", root.toString(), "--smallest", "--max-tokens", "512"};
                }),
                of("predictor of another design space", "design space 'hat-wmt14'", (root, in) -> {
                    PipelineTest.copy(otherSpaceRoot.resolve("latency/predictor/" + OTHER_HW),
                            root.resolve("latency/predictor/" + OTHER_HW));
                    return new String[] {"sweep", "--root", root.toString(), "--hardware-id", OTHER_HW, "--budgets", "100",
                            "--population", "8", "--parents", "3", "--mutations", "3", "--crossovers", "2", "--generations", "1"};
                }),
                // sql
                of("sql: a view that does not exist", "hat sql: error: [TABLE_OR_VIEW_NOT_FOUND]", (root, in) ->
                        new String[] {"sql", "--root", root.toString(), "SELECT * FROM no_such_view"}),
                of("sql: a syntax error", "hat sql: error: [PARSE_SYNTAX_ERROR]", (root, in) ->
                        new String[] {"sql", "--root", root.toString(), "SELEC 1 FROM"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void endsInOneLineAndLeavesTheRunRootAsItWas(String name, String expected, Case c) throws Exception {
        Path root = dir.resolve("case-" + Integer.toHexString(name.hashCode()));
        Path in = dir.resolve("in-" + Integer.toHexString(name.hashCode()));
        SmallRun.delete(root);
        PipelineTest.copy(base, root);
        Files.createDirectories(in);
        String[] args = c.prepare(root, in);
        Map<String, String> before = checksums(root);

        Run r = captured(args);
        int exit = r.exit();
        String stderr = r.stderr();

        assertEquals(1, exit, name + ": " + stderr);
        assertEquals(1, stderr.strip().lines().count(), name + ": one line on stderr, got:\n" + stderr);
        assertTrue(stderr.startsWith("hat " + args[0] + ": error: "), stderr);
        for (String part : expected.split(" && ")) {
            assertTrue(stderr.contains(part), name + ": expected '" + part + "' in: " + stderr);
        }
        assertFalse(stderr.contains("\tat ") || stderr.contains("Exception:"), stderr);
        assertEquals(before, checksums(root), name + ": the run root changed");
    }

    record Run(int exit, String stderr) {
    }

    /**
     * Runs the CLI with System.err and WARN+ log events (what the console appender shows besides INFO
     * progress) captured. An in-process test reuses the JVM's Spark session, which Spark warns about;
     * a user's CLI run starts its own, so that line is left out.
     */
    static Run captured(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter log = new StringWriter();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        WriterAppender appender = WriterAppender.newBuilder().setName("matrix-capture").setTarget(log)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%throwable").build()).build();
        appender.start();
        var rootLogger = ctx.getConfiguration().getRootLogger();
        rootLogger.addAppender(appender, Level.WARN, null);
        ctx.updateLoggers();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Hat.execute(args);
        } finally {
            System.setErr(old);
            rootLogger.removeAppender(appender.getName());
            ctx.updateLoggers();
        }
        return new Run(exit, (err.toString(StandardCharsets.UTF_8) + log).lines()
                .filter(l -> !l.contains("Using an existing Spark session")).map(l -> l + "\n").collect(Collectors.joining()));
    }

    /** Path (relative) → SHA-256 of every file under root, hidden ones (.crc) included. */
    static Map<String, String> checksums(Path root) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                try {
                    sums.put(root.relativize(p).toString(),
                            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        try (Stream<Path> walk = Files.walk(root)) { // empty folders count too: a leftover temporary would
            walk.filter(Files::isDirectory).forEach(d -> sums.putIfAbsent(root.relativize(d) + "/", "dir"));
        }
        return sums;
    }

    static Arguments of(String name, String expected, Case c) {
        return Arguments.of(name, expected, c);
    }

    static String pairs(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("r").append(i).append("\tthe house number ").append(i).append("\tla casa numero ").append(i).append('\n');
        }
        return b.toString();
    }

    static byte[] garbage(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(17).nextBytes(b);
        return b;
    }

    static Path write(Path in, String name, String text) throws IOException {
        return write(in, name, text.getBytes(StandardCharsets.UTF_8));
    }

    static Path write(Path in, String name, byte[] bytes) throws IOException {
        return Files.write(in.resolve(name), bytes);
    }

    static String[] corpus(Path root, Path input) {
        return new String[] {"prepare-corpus", "--root", root.toString(), "--input", input.toString(), "--vocab-size", "200"};
    }

    static String[] latency(Path root, Path csv) {
        return new String[] {"import-latency", "--root", root.toString(), "--hardware-id", "box", csv.toString()};
    }

    static String[] train(Path root, Path space) {
        return new String[] {"train-supernet", "--root", root.toString(), "--space", space.toString(), "--steps", "6",
                "--max-tokens", "512"};
    }

    /** Training resumed from the newest checkpoint: it reads the weights (eval-subnet may answer from its cache). */
    static String[] trainResumed(Path root) {
        return new String[] {"train-supernet", "--root", root.toString(), "--space",
                base.resolveSibling("small-run-tiny.yaml").toString(), "--steps", "6", "--max-tokens", "512",
                "--warmup", "2", "--lr", "0.002", "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "2",
                "--max-len", "64"};
    }

    static String[] sweep(Path root, String budgets) {
        return new String[] {"sweep", "--root", root.toString(), "--budgets", budgets, "--population", "8", "--parents", "3",
                "--mutations", "3", "--crossovers", "2", "--generations", "1"};
    }
}
