package dev.hatspark.jobs;

import org.apache.spark.sql.Dataset;
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
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The core jobs on a real local Spark session, real Parquet files and real DJL training. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineTest {
    static final String TINY_SPACE = """
            name: tiny
            qkv_dim: 32
            dropout: 0.1
            encoder: {embed_dim: [16, 32], layer_num: [1, 2], ffn_embed_dim: [32, 64], self_attention_heads: [2, 4]}
            decoder: {embed_dim: [16, 32], layer_num: [1, 2], ffn_embed_dim: [32, 64], self_attention_heads: [2, 4],
                      ende_attention_heads: [2, 4], arbitrary_ende_attn: [1, 2]}
            """;

    @TempDir
    static Path dir;
    static SparkSession spark;
    static String root;
    static String space;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        root = dir.resolve("run").toString();
        space = dir.resolve("tiny.yaml").toString();
        Files.writeString(dir.resolve("tiny.yaml"), TINY_SPACE);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PrepareCorpus prepare(String root) {
        PrepareCorpus p = new PrepareCorpus();
        p.run.root = root;
        p.limit = 400;
        p.vocabSize = 300;
        p.validFraction = 0.1;
        p.testFraction = 0.1;
        return p;
    }

    static TrainSupernet train(String root, long steps) {
        TrainSupernet t = new TrainSupernet();
        t.run.root = root;
        t.space = space;
        t.steps = steps;
        t.maxTokens = 512;
        t.warmup = 2;
        t.lr = 2e-3f;
        t.validEvery = 2;
        t.checkpointEvery = 2;
        t.logEvery = 2;
        t.maxLen = 64;
        return t;
    }

    @Test
    @Order(1)
    void prepareCorpusSplitsEncodesAndIsDeterministic() throws Exception {
        CorpusMeta meta = (CorpusMeta) prepare(root).run(spark);
        Dataset<Row> pairs = spark.read().parquet(root + "/corpus/pairs");
        assertEquals("split:string,ref:string,src_ids:array<int>,tgt_ids:array<int>",
                List.of(pairs.schema().fields()).stream().map(f -> f.name() + ":" + f.dataType().simpleString())
                        .collect(Collectors.joining(",")));
        assertEquals(400, pairs.count());
        assertEquals(meta.train() + meta.valid() + meta.test(), 400);
        assertTrue(meta.valid() > 10 && meta.test() > 10 && meta.train() > 250, meta.toString());
        assertEquals(400, pairs.select("ref").distinct().count(), "each ref in exactly one split");
        assertEquals(0, pairs.selectExpr("explode(src_ids) id").where("id < 0 or id >= 300").count());
        assertEquals(300, meta.srcVocabSize());
        assertTrue(Files.exists(Path.of(root, "corpus/vocab/joint.bpe")));
        List<Row> first = pairs.orderBy("ref").collectAsList();
        prepare(root).run(spark); // a rerun rewrites the same table
        assertEquals(first, spark.read().parquet(root + "/corpus/pairs").orderBy("ref").collectAsList());
    }

    @Test
    @Order(2)
    void prepareCorpusReadsLineAlignedTextFiles() throws Exception {
        Path src = dir.resolve("a.en");
        Path tgt = dir.resolve("a.es");
        List<String> lines = PrepareCorpus.builtinLines().subList(1, 201);
        Files.write(src, lines.stream().map(l -> l.split("\t")[1]).toList());
        Files.write(tgt, lines.stream().map(l -> l.split("\t")[2]).toList());
        PrepareCorpus p = prepare(dir.resolve("text").toString());
        p.srcFile = src.toString();
        p.tgtFile = tgt.toString();
        p.vocab = "separate";
        CorpusMeta meta = (CorpusMeta) p.run(spark);
        assertEquals(200, meta.train() + meta.valid() + meta.test());
        assertFalse(meta.jointVocab());
        assertNotEquals(meta.srcVocabFingerprint(), meta.tgtVocabFingerprint());
        assertTrue(Files.exists(dir.resolve("text/corpus/vocab/src.bpe")));
    }

    @Test
    @Order(3)
    void badCorpusInputGivesOneClearLine() throws Exception {
        Path noHeader = dir.resolve("noheader.tsv");
        Files.writeString(noHeader, "Gen 1:1\tIn the beginning\tEn el principio\n");
        assertBad(noHeader, "noheader.tsv: line 1 must be the header");
        Path badRow = dir.resolve("badrow.tsv");
        Files.writeString(badRow, "ref\tsrc\ttgt\nGen 1:1\tIn the beginning\tEn el principio\nGen 1:2\tonly two\n");
        assertBad(badRow, "badrow.tsv: row 'Gen 1:2\tonly two' has 2 tab-separated fields, expected 3");
        Path dup = dir.resolve("dup.tsv");
        Files.writeString(dup, "ref\tsrc\ttgt\nGen 1:1\ta b\tc d\nGen 1:1\te f\tg h\n");
        assertBad(dup, "duplicate values in column 'ref'");
        assertBad(dir.resolve("missing.tsv"), "missing.tsv does not exist");
    }

    private static void assertBad(Path input, String expected) {
        PrepareCorpus p = prepare(dir.resolve("bad").toString());
        p.input = input.toString();
        p.limit = 0;
        var e = assertThrows(IllegalArgumentException.class, () -> p.run(spark));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertFalse(Files.exists(dir.resolve("bad/corpus/pairs")), "nothing written on bad input");
    }

    @Test
    @Order(4)
    void trainingResumedFromACheckpointEqualsAStraightRun() throws Exception {
        train(root, 4).run(spark);
        String resumed = dir.resolve("resumed").toString();
        copy(Path.of(root, "corpus"), Path.of(resumed, "corpus"));
        train(resumed, 2).run(spark);   // "interrupted" after the step-2 checkpoint
        train(resumed, 4).run(spark);   // started again: resumes from step 2
        assertArrayEquals(Files.readAllBytes(Path.of(root, "supernet/checkpoints/step-00000004/model.ndlist")),
                Files.readAllBytes(Path.of(resumed, "supernet/checkpoints/step-00000004/model.ndlist")));
        List<Row> a = spark.read().parquet(root + "/supernet/metrics").orderBy("step").collectAsList();
        List<Row> b = spark.read().parquet(resumed + "/supernet/metrics").orderBy("step").collectAsList();
        assertEquals(3, a.size(), "rows at steps 0, 2, 4");
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getLong(0), b.get(i).getLong(0));
            assertEquals(a.get(i).getDouble(2), b.get(i).getDouble(2), 0.0, "valid_loss_largest at row " + i);
        }
        assertTrue(a.get(2).getDouble(2) < a.get(0).getDouble(2), "validation loss of the largest drops: " + a);
        assertTrue(a.get(0).isNullAt(1), "no train loss before the first update");
        // a rerun with the same --steps is a no-op
        TrainSupernet.Result again = (TrainSupernet.Result) train(root, 4).run(spark);
        assertEquals(4, again.step());
    }

    @Test
    @Order(5)
    @SuppressWarnings("unchecked")
    void evalSubnetShardsOverTasksAndMergesIdempotently() throws Exception {
        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.largest = true;
        e.smallest = true;
        e.sample = 3;
        List<EvalSubnet.Evaluation> first = (List<EvalSubnet.Evaluation>) e.run(spark);
        assertEquals(5, first.size());
        assertTrue(first.stream().allMatch(r -> r.valLoss() > 0 && r.valLoss() < 20), first.toString());
        List<EvalSubnet.Evaluation> second = (List<EvalSubnet.Evaluation>) e.run(spark);
        assertEquals(first.stream().map(EvalSubnet.Evaluation::valLoss).toList(),
                second.stream().map(EvalSubnet.Evaluation::valLoss).toList(), "deterministic");
        Dataset<Row> cache = spark.read().parquet(root + "/evaluations");
        assertEquals(5, cache.count(), "a rerun adds no duplicate rows");
        assertEquals(1, cache.select("checkpoint_id").distinct().count());
    }

    @Test
    @Order(6)
    void cliReportsBadInputInOneLine() {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Hat.execute("eval-subnet", "--root", dir.resolve("empty").toString(), "--largest");
            assertEquals(1, Hat.execute("eval-subnet", "--root", root, "--config",
                    "{\"encoder_embed_dim\":999,\"encoder_layer_num\":1,\"encoder_ffn_embed_dim\":[32],"
                            + "\"encoder_self_attention_heads\":[2],\"decoder_embed_dim\":16,\"decoder_layer_num\":1,"
                            + "\"decoder_ffn_embed_dim\":[32],\"decoder_self_attention_heads\":[2],"
                            + "\"decoder_ende_attention_heads\":[2],\"decoder_arbitrary_ende_attn\":[1]}"));
        } finally {
            System.setErr(old);
        }
        String out = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, rc);
        assertTrue(out.contains("hat eval-subnet: error: no checkpoint under"), out);
        assertTrue(out.contains("config field 'encoder_embed_dim'=999 is not in design space 'tiny'"), out);
        assertFalse(spark.sparkContext().isStopped(), "the CLI leaves a session it did not create running");
    }

    static void copy(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
