package dev.hatspark.measure;

import dev.hatspark.latency.Features;
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.MeasurementCsv;
import dev.hatspark.latency.ScheduleOptions;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** hat-measure with real DJL timings of a tiny space into a CSV: append, resume, refusals. */
class HatMeasureTest {
    static final String TINY = """
            name: tiny
            qkv_dim: 32
            dropout: 0.1
            encoder: {embed_dim: [16, 32], layer_num: [1, 2], ffn_embed_dim: [32, 64], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [16, 32], layer_num: [1, 2], ffn_embed_dim: [32, 64], self_attention_heads: [2, 4],
                      ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
            """;

    @TempDir
    static Path dir;
    static Path space;

    @BeforeAll
    static void writeSpace() throws Exception {
        space = dir.resolve("tiny.yaml");
        Files.writeString(space, TINY);
    }

    /** The arguments of a quick run: tiny protocol, one thread, no warm-up wait. */
    static String[] args(Path out, int samples, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("--space", space.toString(), "--samples", String.valueOf(samples),
                "--seed", "7", "--out", out.toString(), "--vocab-size", "100", "--src-len", "6", "--decoder-steps", "6",
                "--warmup", "1", "--runs", "3", "--threads", "1", "--warmup-seconds", "0"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static HatMeasure.Result run(String... args) throws Exception {
        HatMeasure m = new HatMeasure();
        new CommandLine(m).setOverwrittenOptionsAllowed(true).parseArgs(args);
        return m.run();
    }

    static List<Measurement> rows(Path csv) throws Exception {
        MeasurementCsv.Parsed p = MeasurementCsv.parse(Files.readString(csv), csv.toString(), null);
        assertEquals(List.of(), p.bad());
        return p.rows();
    }

    @Test
    void appendsRowsAndAnInterruptedRunResumesWithoutMeasuringAgain() throws Exception {
        Path csv = dir.resolve("resume.csv");
        HatMeasure.Result first = run(args(csv, 4));
        assertEquals(4, first.measured());
        assertTrue(first.firstConfigSeconds() > 0);
        List<Measurement> rows = rows(csv);
        assertEquals(4, rows.size());
        DesignSpace ds = HatMeasure.loadSpace(space.toString());
        List<ArchConfig> sampled = Genetics.latencySample(ds, 6, 7);
        for (int i = 0; i < 4; i++) {
            Measurement m = rows.get(i);
            ArchConfig c = ArchConfig.fromJson((String) m.get("config_json"));
            assertEquals(sampled.get(i), c, "the corners, then the seed's sample, in order");
            assertEquals(c.hash(), m.configHash());
            assertEquals((Double) Features.hat10(c)[5], m.get("decoder_layer_num"));
            assertEquals((Double) m.get("encoder_ms") + (Double) m.get("decoder_ms"), m.latencyMs(), 1e-9);
            assertTrue(m.latencyMs() > 0);
            assertEquals(3, m.get("runs"));
            assertEquals(false, m.get("hat10_only"));
            assertTrue(m.hardwareId().endsWith("-1t"), m.hardwareId());
        }

        // a kill in the middle of writing the last line: the torn line is dropped, that config measured again
        String text = Files.readString(csv);
        Files.writeString(csv, text.substring(0, text.length() - 30));
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PrintStream old = System.out;
        HatMeasure.Result again;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        try {
            again = run(args(csv, 6));
        } finally {
            System.setOut(old);
        }
        assertEquals(3, again.skipped());
        assertEquals(3, again.measured(), "the torn config and 2 new ones");
        String log = console.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("dropped the torn last line"), log);
        assertTrue(log.contains("6/6 configs") && log.contains("ETA"), log);
        List<Measurement> after = rows(csv);
        assertEquals(6, after.size());
        Set<String> hashes = after.stream().map(Measurement::configHash).collect(Collectors.toSet());
        assertEquals(sampled.stream().map(ArchConfig::hash).collect(Collectors.toSet()), hashes);
        // the first three rows are untouched
        assertEquals(rows.subList(0, 3), after.subList(0, 3));

        assertEquals(0, run(args(csv, 6)).measured(), "nothing left to do");
        assertEquals(1, after.stream().map(m -> m.get("reference_anchor_ms")).distinct().count(),
                "the resumed run normalizes by the file's first anchor");
        assertTrue(after.stream().allMatch(m -> Integer.valueOf(ScheduleOptions.DEFAULT.passes()).equals(m.get("passes")) && m.get("reference_ms") != null));
    }

    @Test
    void aFileOfAnotherProtocolOrSpaceIsRefused() throws Exception {
        Path csv = dir.resolve("other.csv");
        run(args(csv, 1));
        var e = assertThrows(IllegalArgumentException.class, () -> run(args(csv, 2, "--runs", "4")));
        assertTrue(e.getMessage().contains("runs '3', this run's is '4'"), e.getMessage());
        assertEquals(1, HatMeasure.execute(args(csv, 2, "--vocab-size", "101")));
        assertEquals(1, rows(csv).size(), "nothing appended");
    }

    @Test
    void configListIsCheckedAgainstTheSpace() throws Exception {
        Path list = dir.resolve("configs.txt");
        DesignSpace ds = HatMeasure.loadSpace(space.toString());
        Files.writeString(list, "# two configs\n" + ds.smallest().toJson() + "\n\n" + ds.largest().toJson() + "\n");
        Path csv = dir.resolve("list.csv");
        HatMeasure.Result r = run(args(csv, 1, "--configs", list.toString()));
        assertEquals(2, r.measured());
        List<Measurement> rows = rows(csv);
        assertEquals(List.of(ds.smallest().hash(), ds.largest().hash()), rows.stream().map(Measurement::configHash).toList(),
                "the list's configs, in its order");

        Files.writeString(list, ds.smallest().toJson() + "\n" + ds.smallest().toJson().replace("\"encoder_embed_dim\":16",
                "\"encoder_embed_dim\":17") + "\n");
        var e = assertThrows(IllegalArgumentException.class, () -> run(args(dir.resolve("bad.csv"), 1, "--configs", list.toString())));
        assertTrue(e.getMessage().startsWith(list + ":2: ") && e.getMessage().contains("encoder_embed_dim"), e.getMessage());

        // a folder of HAT SubTransformer ymls, timed in file-name order
        Path hat = Files.createDirectories(dir.resolve("hat-ymls"));
        Files.writeString(hat.resolve("b.yml"), ds.smallest().toHatYaml());
        Files.writeString(hat.resolve("a.yml"), ds.largest().toHatYaml());
        Path ymlCsv = dir.resolve("yml.csv");
        assertEquals(2, run(args(ymlCsv, 1, "--configs", hat.toString())).measured());
        assertEquals(List.of(ds.largest().hash(), ds.smallest().hash()), rows(ymlCsv).stream().map(Measurement::configHash).toList());
    }

    @Test
    void noSparkNorHadoopOnTheClasspath() {
        // the runtime classpath is what the shaded jar packs: DJL and the model code, nothing of a cluster
        for (String c : List.of("org.apache.spark.sql.SparkSession", "org.apache.hadoop.conf.Configuration",
                "org.apache.hadoop.fs.FileSystem", "scala.Predef")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(c), c + " must not be on hat-measure's classpath");
        }
        assertDoesNotThrow(() -> Class.forName("ai.djl.pytorch.engine.PtEngine"));
    }
}
