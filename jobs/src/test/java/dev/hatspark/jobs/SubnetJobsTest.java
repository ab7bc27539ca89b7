package dev.hatspark.jobs;

import dev.hatspark.jobs.corpus.CorpusInput;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.subnet.Evaluate;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.supernet.ValidateSupernet;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.subnet.TrainSubnet;
import dev.hatspark.jobs.supernet.TrainSupernet;
import dev.hatspark.bleu.Bleu;
import dev.hatspark.corpus.Bpe;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
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

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** train-subnet, evaluate and validate-supernet on a real local Spark session, real Parquet, real DJL. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SubnetJobsTest {
    static final DesignSpace SPACE = DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
    static final ArchConfig C = ArchConfig.fromJson("{\"encoder_embed_dim\":32,\"encoder_layer_num\":1,"
            + "\"encoder_ffn_embed_dim\":[64],\"encoder_self_attention_heads\":[2],\"decoder_embed_dim\":16,"
            + "\"decoder_layer_num\":2,\"decoder_ffn_embed_dim\":[32,64],\"decoder_self_attention_heads\":[4,2],"
            + "\"decoder_ende_attention_heads\":[2,4],\"decoder_arbitrary_ende_attn\":[1,1]}").validate(SPACE);

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
        PipelineTest.prepare(root).run(spark);
        TrainSupernet t = new TrainSupernet();
        t.run.root = root;
        t.space = dir.resolve("tiny.yaml").toString();
        t.recipe.steps = 6;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.validEvery = 6;
        t.recipe.checkpointEvery = 6;
        t.recipe.maxLen = 64;
        t.run(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static TrainSubnet train(String root, String init, long steps, String... configs) {
        TrainSubnet t = new TrainSubnet();
        t.run.root = root;
        t.init = init;
        t.targets.configs = new ArrayList<>(List.of(configs));
        t.recipe.steps = steps;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.maxLen = 64;
        t.recipe.validEvery = 2;
        t.recipe.checkpointEvery = 2;
        t.recipe.logEvery = 2;
        return t;
    }

    @Test
    @Order(1)
    @SuppressWarnings("unchecked")
    void trainSubnetFineTunesOrTrainsFromScratchAndResumesExactly() throws Exception {
        List<TrainSubnet.Trained> scratch = (List<TrainSubnet.Trained>) train(root, "scratch", 4, C.toJson()).run(spark);
        String resumed = dir.resolve("resumed").toString();
        PipelineTest.copy(Path.of(root, "corpus"), Path.of(resumed, "corpus"));
        PipelineTest.copy(Path.of(root, "supernet"), Path.of(resumed, "supernet"));
        train(resumed, "scratch", 2, C.toJson()).run(spark);  // "interrupted" after step 2
        train(resumed, "scratch", 4, C.toJson()).run(spark);  // resumes from step 2
        String ckpt = "subnets/" + C.hash() + "/scratch/checkpoints/step-00000004/model.ndlist";
        assertArrayEquals(Files.readAllBytes(Path.of(root, ckpt)), Files.readAllBytes(Path.of(resumed, ckpt)),
                "a resumed training ends with the weights of a straight one");
        List<Row> curve = spark.read().parquet(root + "/subnets/" + C.hash() + "/scratch/metrics").orderBy("step").collectAsList();
        assertEquals(List.of(0L, 2L, 4L), curve.stream().map(r -> r.getLong(0)).toList());
        assertTrue(curve.get(2).<Double>getAs("valid_loss") < curve.get(0).<Double>getAs("valid_loss") - 0.1, "from scratch the loss drops: " + curve);
        assertEquals(curve.get(2).<Double>getAs("valid_loss"), scratch.get(0).validLoss(), 0.0);

        // fine-tuning starts from the inherited weights: its step-0 loss is eval-subnet's loss of the config
        train(root, "inherited", 2, C.toJson()).run(spark);
        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.configs = List.of(C.toJson());
        double inheritedLoss = ((List<EvalSubnet.Evaluation>) e.run(spark)).get(0).valLoss();
        Row first = spark.read().parquet(root + "/subnets/" + C.hash() + "/inherited/metrics").orderBy("step").first();
        assertEquals(inheritedLoss, first.<Double>getAs("valid_loss"), 1e-4);

        TrainSubnet other = train(root, "scratch", 6, C.toJson());
        other.recipe.lr = 1e-3f;
        var bad = assertThrows(IllegalArgumentException.class, () -> other.run(spark));
        assertTrue(bad.getMessage().contains("was trained with lr=0.002"), bad.getMessage());
        TrainSubnet none = train(root, "scratch", 2);
        var empty = assertThrows(IllegalArgumentException.class, () -> none.run(spark));
        assertTrue(empty.getMessage().contains("no SubTransformer given"), empty.getMessage());
    }

    @Test
    @Order(2)
    @SuppressWarnings("unchecked")
    void evaluateScoresBleuOnRawReferencesAndMeasuresLatency() throws Exception {
        TrainSubnet largest = train(root, "inherited", 2);
        largest.targets.largest = true;
        largest.run(spark);
        // this hardware's labels: evaluate must time with their schedule, reference anchor and noise
        dev.hatspark.jobs.latency.MeasureLatency ml = new dev.hatspark.jobs.latency.MeasureLatency();
        ml.run.root = root;
        ml.samples = 4;
        ml.chunk = 4;
        ml.parallel = 1;
        ml.protocolOptions.warmup = 1;
        ml.protocolOptions.runs = 2;
        ml.protocolOptions.referenceEvery = 2;
        ml.run(spark);
        Row measuring = spark.read().parquet(root + "/latency/runs").first();
        Evaluate ev = evaluate();
        List<Evaluate.Result> results = (List<Evaluate.Result>) ev.run(spark);
        Row evaluating = spark.read().parquet(root + "/latency/runs").where("job = 'evaluate'").first();
        assertEquals(measuring.<Double>getAs("reference_anchor_ms"), evaluating.<Double>getAs("reference_anchor_ms"),
                "measured in the units of the labels: the same reference anchor");
        assertEquals(2, evaluating.<Integer>getAs("reference_every"), "measure-latency's schedule");
        assertEquals(2, evaluating.<Integer>getAs("configs"));
        assertEquals(List.of("baseline", "config"), results.stream().map(Evaluate.Result::role).toList());
        Dataset<Row> table = spark.read().parquet(root + "/subnets/results");
        assertEquals(2, table.count());
        Map<String, Row> byHash = new HashMap<>();
        table.collectAsList().forEach(r -> byHash.put(r.getAs("config_hash"), r));
        Row c = byHash.get(C.hash());
        assertTrue(c.<Double>getAs("measured_latency_ms") > 0);
        assertTrue(c.<Double>getAs("measured_raw_latency_ms") > 0);
        assertEquals(measuring.<Double>getAs("retest_error"), c.<Double>getAs("label_noise_rel"), 1e-12,
                "the label noise is the measuring run's retest error");
        assertTrue(c.isNullAt(c.fieldIndex("meets_budget")), "no budget, no verdict");
        assertTrue(c.isNullAt(c.fieldIndex("predicted_latency_ms")), "no predictor fitted in this run root");
        assertTrue(c.isNullAt(c.fieldIndex("budget_ms")));
        assertEquals(2L, c.<Long>getAs("train_steps"));
        try (var m = ai.djl.ndarray.NDManager.newBaseManager();
             var model = dev.hatspark.model.SuperTransformer.create(SPACE, 300, 300, 1, m)) {
            assertEquals(model.parameterCount(C), c.<Long>getAs("params"));
        }

        // BLEU is sacreBLEU's over detokenized hypotheses and the raw test references of the input
        List<Row> tr = spark.read().parquet(root + "/subnets/" + C.hash() + "/inherited/translations").orderBy("ref").collectAsList();
        assertEquals(12, tr.size());
        double bleu = Bleu.corpus(tr.stream().map(r -> r.getString(1)).toList(), tr.stream().map(r -> r.getString(2)).toList()).bleu();
        assertEquals(bleu, c.<Double>getAs("bleu"), 1e-9);
        Map<String, String> raw = new HashMap<>();
        CorpusInput.builtinLines().stream().skip(1).map(l -> l.split("\t")).forEach(p -> raw.put(p[0], p[2]));
        tr.forEach(r -> assertEquals(raw.get(r.getString(0)), r.getString(2), "reference of " + r.getString(0)));
        assertTrue(tr.stream().noneMatch(r -> r.getString(1).contains("\u2581")), "hypotheses are detokenized");
        // detokenization inverts the tokenization: decoded reference ids score (almost) 100 against the raw text
        Bpe bpe = Bpe.read(new ByteArrayInputStream(Files.readAllBytes(Path.of(root, "corpus/vocab/joint.bpe"))));
        List<String> decoded = new ArrayList<>();
        for (Row r : tr) {
            decoded.add(bpe.decode(bpe.encode(r.getString(2))));
        }
        assertTrue(Bleu.corpus(decoded, tr.stream().map(r -> r.getString(2)).toList()).bleu() > 95);

        Evaluate again = evaluate(); // evaluated again: its row is replaced, the other one kept
        again.targets.largest = false;
        again.run(spark);
        Dataset<Row> after = spark.read().parquet(root + "/subnets/results");
        assertEquals(2, after.count());
        assertTrue(after.where("config_hash = '" + C.hash() + "'").first().<java.sql.Timestamp>getAs("evaluated_at")
                .after(c.getAs("evaluated_at")));
        Evaluate missing = evaluate();
        missing.init = "scratch";
        missing.targets.configs = List.of();
        var e = assertThrows(IllegalArgumentException.class, () -> missing.run(spark));
        assertTrue(e.getMessage().contains("has no scratch checkpoint"), e.getMessage());
    }

    private static Evaluate evaluate() {
        Evaluate ev = new Evaluate();
        ev.run.root = root;
        ev.targets.largest = true;
        ev.targets.configs = List.of(C.toJson());
        ev.maxSentences = 12;
        ev.beam = 2;
        ev.maxLenA = 1;
        ev.maxLenB = 4;
        ev.latencyWarmup = 1;
        ev.latencyRuns = 4;
        return ev;
    }

    @Test
    @Order(3)
    void validateSupernetRanksInheritedAgainstScratchLossesAndResumes() throws Exception {
        ValidateSupernet v = validate();
        ValidateSupernet.Result r = (ValidateSupernet.Result) v.run(spark);
        assertEquals(3, r.k());
        assertTrue(r.kendallTau() >= -1 && r.kendallTau() <= 1, r.toString());
        Dataset<Row> rows = spark.read().parquet(root + "/validation/configs");
        assertEquals(3, rows.count());
        for (Row row : rows.collectAsList()) {
            assertArrayEquals(r.losses().get(row.<String>getAs("config_hash")),
                    new double[] {row.getAs("inherited_loss"), row.getAs("scratch_loss")}, 0.0);
            assertTrue(Files.exists(Path.of(root, "subnets", row.getAs("config_hash"), "scratch/checkpoints/step-00000002")));
        }
        double[] a = r.losses().values().stream().mapToDouble(x -> x[0]).toArray();
        double[] b = r.losses().values().stream().mapToDouble(x -> x[1]).toArray();
        assertEquals(dev.hatspark.latency.Accuracy.kendallTau(a, b), r.kendallTau(), 0.0);
        ValidateSupernet.Result again = (ValidateSupernet.Result) validate().run(spark);
        assertEquals(r.kendallTau(), again.kendallTau(), 0.0);
        assertEquals(3, spark.read().parquet(root + "/validation/configs").count(), "a rerun trains nothing again");
        Row summary = spark.read().parquet(root + "/validation/summary").first();
        assertEquals(1, spark.read().parquet(root + "/validation/summary").count());
        assertEquals(r.kendallTau(), summary.<Double>getAs("kendall_tau"), 0.0);
        assertEquals(3, summary.<Integer>getAs("k"));
    }

    private static ValidateSupernet validate() {
        ValidateSupernet v = new ValidateSupernet();
        v.run.root = root;
        v.samples = 3;
        v.recipe.steps = 2;
        v.recipe.maxTokens = 512;
        v.recipe.warmup = 2;
        v.recipe.lr = 2e-3f;
        v.recipe.maxLen = 64;
        v.recipe.validEvery = 2;
        v.recipe.checkpointEvery = 2;
        return v;
    }
}
