package dev.hatspark.jobs;

import dev.hatspark.corpus.FairseqDictionary;
import dev.hatspark.jobs.corpus.CorpusInput;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.subnet.Evaluate;
import dev.hatspark.jobs.subnet.TrainSubnet;
import dev.hatspark.jobs.supernet.TrainSupernet;
import dev.hatspark.util.Ids;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** prepare-corpus --fairseq-data-bin on the HAT oracle data-bin (made by HAT's preprocess.py), then training on it. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FairseqCorpusTest {
    static final Path DATA_BIN = Path.of("..", "common", "src", "test", "resources", "hat-oracle", "data-bin");

    @TempDir
    static Path dir;
    static SparkSession spark;
    static String root;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        root = dir.resolve("run").toString();
        Files.writeString(dir.resolve("tiny.yaml"), PipelineTest.TINY_SPACE);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PrepareCorpus prepare(String root, Path dataBin) {
        PrepareCorpus p = new PrepareCorpus();
        p.run.root = root;
        p.fairseqDataBin = dataBin.toAbsolutePath().normalize().toString();
        return p;
    }

    @Test
    @Order(1)
    void readsTheDataBinAsFairseqHasIt() throws Exception {
        CorpusMeta meta = prepare(root, DATA_BIN).run(spark);
        assertEquals(List.of(400L, 40L, 40L), List.of(meta.train(), meta.valid(), meta.test()));
        byte[] dictBytes = Files.readAllBytes(DATA_BIN.resolve("dict.es.txt"));
        FairseqDictionary dict;
        try (InputStream in = Files.newInputStream(DATA_BIN.resolve("dict.es.txt"))) {
            dict = FairseqDictionary.read(in, "dict.es.txt");
        }
        assertTrue(meta.jointVocab());
        assertEquals(dict.size(), meta.srcVocabSize());
        assertEquals(dict.size(), meta.tgtVocabSize());
        assertEquals(Ids.sha(dictBytes), meta.tgtVocabFingerprint());
        assertEquals(Ids.sha(Files.readAllBytes(DATA_BIN.resolve("dict.en.txt"))), meta.srcVocabFingerprint());
        assertTrue(meta.input().isFairseq());
        assertEquals("en-es", meta.input().fairseqPair());
        assertTrue(meta.input().describe().contains(meta.input().fairseqDataBin()), meta.input().describe());
        Layout layout = new Layout(root);
        assertArrayEquals(dictBytes, Files.readAllBytes(Path.of(layout.corpusFairseqDict("es"))));
        assertArrayEquals(Files.readAllBytes(DATA_BIN.resolve("dict.en.txt")),
                Files.readAllBytes(Path.of(layout.corpusFairseqDict("en"))));
        // the JSON reads back, and an older one without the fairseq fields still does
        CorpusMeta back = CorpusMeta.read(new Fs(spark.sparkContext().hadoopConfiguration()), layout);
        assertEquals(meta, back);
        CorpusInput old = new ObjectMapper().readValue("{\"tsv\":\"builtin:bible\",\"srcFile\":null,\"tgtFile\":null}",
                CorpusInput.class);
        assertFalse(old.isFairseq());
        assertEquals("builtin:bible", old.describe());

        for (String split : List.of("train", "valid", "test")) {
            List<Row> rows = spark.read().parquet(layout.corpusPairs()).where("split = '" + split + "'")
                    .orderBy("ref").collectAsList();
            List<String> en = Files.readAllLines(DATA_BIN.resolve("raw/" + split + ".en"));
            List<String> es = Files.readAllLines(DATA_BIN.resolve("raw/" + split + ".es"));
            assertEquals(en.size(), rows.size(), split);
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                assertEquals(split + ":" + String.format("%09d", i), r.getString(1));
                assertEquals(expected(dict, en.get(i)), decode(dict, r.getList(2)), split + " " + i + " en");
                assertEquals(expected(dict, es.get(i)), decode(dict, r.getList(3)), split + " " + i + " es");
            }
        }
    }

    /** The raw line as fairseq binarized it: words missing from the dictionary are {@code <unk>}. */
    private static String expected(FairseqDictionary dict, String line) {
        return Arrays.stream(line.strip().split("\\s+")).map(w -> dict.contains(w) ? w : "<unk>")
                .collect(Collectors.joining(" "));
    }

    private static String decode(FairseqDictionary dict, List<Integer> ids) {
        List<String> words = new ArrayList<>();
        for (int id : ids) {
            assertTrue(id == FairseqDictionary.UNK || id >= FairseqDictionary.SPECIALS.size(), "special id " + id);
            words.add(dict.symbol(id));
        }
        return String.join(" ", words);
    }

    @Test
    @Order(2)
    void trainsTheSuperTransformerOnIt() throws Exception {
        TrainSupernet t = new TrainSupernet();
        t.run.root = root;
        t.space = dir.resolve("tiny.yaml").toString();
        t.recipe.steps = 2;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.validEvery = 2;
        t.recipe.checkpointEvery = 2;
        t.recipe.logEvery = 2;
        t.recipe.maxLen = 64;
        TrainSupernet.Result r = (TrainSupernet.Result) t.run(spark);
        assertEquals(2, r.step());
        assertTrue(Files.exists(Path.of(root, "supernet/checkpoints/step-00000002/model.ndlist")));
        List<Row> metrics = spark.read().parquet(root + "/supernet/metrics").collectAsList();
        assertFalse(metrics.isEmpty());
    }

    @Test
    @Order(3)
    void evaluatesWithTokenizedBleuAgainstTheDecodedTarget() throws Exception {
        TrainSubnet t = new TrainSubnet();
        t.run.root = root;
        t.targets.largest = true;
        t.recipe.steps = 2;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.maxLen = 64;
        t.recipe.validEvery = 2;
        t.recipe.checkpointEvery = 2;
        t.recipe.logEvery = 2;
        t.run(spark);
        Evaluate ev = new Evaluate();
        ev.run.root = root;
        ev.targets.largest = true;
        ev.maxSentences = 6;
        ev.beam = 2;
        ev.maxLenA = 1;
        ev.maxLenB = 4;
        ev.latencyWarmup = 1;
        ev.latencyRuns = 2;
        ev.compoundSplit = true;
        @SuppressWarnings("unchecked")
        List<Evaluate.Result> results = (List<Evaluate.Result>) ev.run(spark);
        assertEquals(1, results.size());
        assertTrue(results.get(0).bleu() >= 0 && results.get(0).bleu() <= 100, results.toString());
        Row row = spark.read().parquet(new Layout(root).subnetResults()).collectAsList().get(0);
        assertEquals("nrefs:1|case:mixed|eff:no|tok:none|remove-bpe|compound-split|smooth:exp|beam:2|lenpen:0.6|sentences:6",
                row.getAs("bleu_signature"));
        FairseqDictionary dict;
        try (InputStream in = Files.newInputStream(DATA_BIN.resolve("dict.es.txt"))) {
            dict = FairseqDictionary.read(in, "dict.es.txt");
        }
        List<String> es = Files.readAllLines(DATA_BIN.resolve("raw/test.es"));
        List<Row> tr = spark.read().parquet(new Layout(root).subnet(results.get(0).configHash(), "inherited").translations())
                .orderBy("ref").collectAsList();
        assertEquals(6, tr.size());
        for (int i = 0; i < tr.size(); i++) {
            assertEquals("test:" + String.format("%09d", i), tr.get(i).getString(0));
            assertEquals(expected(dict, es.get(i)), tr.get(i).getString(2), "reference " + i);
            assertFalse(tr.get(i).getString(1).contains("</s>"), tr.get(i).getString(1));
        }
    }

    @Test
    @Order(4)
    void badDataBinsFailInOneLine() throws Exception {
        Path noDict = copyOfDataBin("no-dict");
        Files.delete(noDict.resolve("dict.es.txt"));
        String out = runCli(noDict);
        assertTrue(out.contains("missing dict.es.txt"), out);

        Path truncated = copyOfDataBin("truncated");
        Path bin = truncated.resolve("valid.en-es.es.bin");
        byte[] b = Files.readAllBytes(bin);
        Files.write(bin, Arrays.copyOf(b, b.length / 2));
        out = runCli(truncated);
        assertTrue(out.contains("valid.en-es.es.bin"), out);

        Path both = copyOfDataBin("both");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(1, Hat.execute("prepare-corpus", "--root", dir.resolve("bad-both").toString(),
                    "--fairseq-data-bin", both.toString(), "--src-file", "x.en", "--tgt-file", "x.es"));
        } finally {
            System.setErr(old);
        }
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--fairseq-data-bin excludes"), err.toString());
    }

    private static String runCli(Path dataBin) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Hat.execute("prepare-corpus", "--root", dir.resolve("bad-" + dataBin.getFileName()).toString(),
                    "--fairseq-data-bin", dataBin.toString());
        } finally {
            System.setErr(old);
        }
        String out = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, rc, out);
        List<String> lines = out.lines().filter(l -> l.startsWith("hat")).toList();
        assertEquals(1, lines.size(), out);
        assertFalse(out.contains("\tat "), "no stack trace: " + out);
        return out;
    }

    private static Path copyOfDataBin(String name) throws Exception {
        Path to = dir.resolve(name);
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(DATA_BIN)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}
