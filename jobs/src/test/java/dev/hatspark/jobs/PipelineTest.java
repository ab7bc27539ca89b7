package dev.hatspark.jobs;

import dev.hatspark.jobs.corpus.CorpusInput;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.search.Racing;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.supernet.TrainSupernet;
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
import java.util.function.Consumer;
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
        t.recipe.steps = steps;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.validEvery = 2;
        t.recipe.checkpointEvery = 2;
        t.recipe.logEvery = 2;
        t.recipe.maxLen = 64;
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
        List<String> lines = CorpusInput.builtinLines().subList(1, 201);
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
        Path corrupt = dir.resolve("corrupt.tsv.gz"); // unreadable: gzip's name, not its content
        Files.writeString(corrupt, "ref\tsrc\ttgt\n");
        assertBad(corrupt, corrupt + ": cannot read past its start (not a gzip file)");
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
            assertEquals(a.get(i).<Double>getAs("valid_loss_largest"), b.get(i).<Double>getAs("valid_loss_largest"), 0.0, "valid_loss_largest at row " + i);
        }
        assertTrue(a.get(2).<Double>getAs("valid_loss_largest") < a.get(0).<Double>getAs("valid_loss_largest"), "validation loss of the largest drops: " + a);
        assertTrue(a.get(0).isNullAt(1), "no train loss before the first update");
        // a rerun with the same --steps is a no-op
        TrainSupernet.Result again = (TrainSupernet.Result) train(root, 4).run(spark);
        assertEquals(4, again.step());
    }

    @Test
    @Order(5)
    @SuppressWarnings("unchecked")
    void evalSubnetShardsOverTasksAndCachesIdempotently() throws Exception {
        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.largest = true;
        e.smallest = true;
        e.sample = 3;
        List<EvalSubnet.Evaluation> first = (List<EvalSubnet.Evaluation>) e.run(spark);
        assertEquals(5, first.size());
        assertTrue(first.stream().allMatch(r -> r.valLoss() > 0 && r.valLoss() < 20 && !r.cached()), first.toString());
        List<EvalSubnet.Evaluation> second = (List<EvalSubnet.Evaluation>) e.run(spark);
        assertTrue(second.stream().allMatch(EvalSubnet.Evaluation::cached), "a rerun evaluates nothing again");
        assertEquals(first.stream().map(EvalSubnet.Evaluation::valLoss).toList(),
                second.stream().map(EvalSubnet.Evaluation::valLoss).toList());
        Dataset<Row> cache = spark.read().parquet(root + "/evaluations");
        assertEquals(5, cache.count(), "a rerun adds no duplicate rows");
        assertEquals(1, cache.select("checkpoint_id").distinct().count());
        // the cached loss is what a fresh evaluation computes: same weights, same batches
        EvalSubnet other = new EvalSubnet();
        other.run.root = root;
        other.largest = true;
        other.maxTokens = 256; // other batching, same validation set: same mean NLL up to float rounding
        assertEquals(first.get(0).valLoss(), ((List<EvalSubnet.Evaluation>) other.run(spark)).get(0).valLoss(), 1e-4);
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

    static double[] budgets;

    @Test
    @Order(7)
    void latencyPredictorForTheSupernetSpace() {
        MeasureLatency m = MeasureLatencyTest.job(root, 60, 5);
        m.space = null; // the supernet's space
        m.vocabSize = null; // the corpus' vocabulary
        m.run(spark);
        FitPredictor f = new FitPredictor();
        f.run.root = root;
        f.hidden = new int[] {16, 16};
        f.maxIter = 50;
        f.gbtIter = 5;
        f.run(spark);
        String hw = spark.read().parquet(root + "/latency/measurements").select("hardware_id").first().getString(0);
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), hw);
        var space = dev.hatspark.space.DesignSpace.parse(TINY_SPACE, "tiny");
        var rng = new java.util.SplittableRandom(1);
        double[] pred = java.util.stream.IntStream.range(0, 200)
                .mapToDouble(i -> p.predictMs(dev.hatspark.space.Genetics.sample(space, rng))).sorted().toArray();
        budgets = new double[] {pred[60], pred[120], pred[199]};
    }

    static Sweep sweep(String id) {
        Sweep s = new Sweep();
        s.run.root = root;
        s.sweepId = id;
        s.budgets = budgets;
        s.population = 12;
        s.parents = 4;
        s.mutations = 4;
        s.crossovers = 4;
        s.generations = 4;
        s.seed = 3;
        s.maxTokens = 512;
        s.racing.fractions = new double[] {0.2, 0.5}; // two racing stages on the ~40 validation sentences: 8, then 20
        s.racing.minSentences = 8;
        return s;
    }

    @Test
    @Order(8)
    void sweepKeepsBudgetsNeverWorsensAndSharesEvaluations() throws Exception {
        Sweep.Result r = (Sweep.Result) sweep("a").run(spark);
        Dataset<Row> pop = spark.read().parquet(root + "/sweeps/a/population");
        assertEquals(3 * 4 * 12, pop.count());
        assertTrue(pop.where("predicted_latency_ms > budget_ms").isEmpty(), "no candidate over its budget");
        List<Row> perGen = pop.groupBy("budget_ms", "generation").agg(org.apache.spark.sql.functions.min("val_loss"))
                .orderBy("budget_ms", "generation").collectAsList();
        for (int i = 1; i < perGen.size(); i++) {
            if (perGen.get(i).getDouble(0) == perGen.get(i - 1).getDouble(0)) {
                assertTrue(perGen.get(i).getDouble(2) <= perGen.get(i - 1).getDouble(2), "best never rises: " + perGen);
            }
        }
        assertEquals(3, r.best().size());
        for (Row b : spark.read().parquet(root + "/sweeps/a/best").collectAsList()) {
            double min = pop.where("budget_ms = " + b.getAs("budget_ms")).agg(org.apache.spark.sql.functions.min("val_loss"))
                    .first().getDouble(0);
            assertEquals(min, b.<Double>getAs("val_loss"), 0.0);
        }
        Dataset<Row> cache = spark.read().parquet(root + "/evaluations");
        assertEquals(cache.count(), cache.select("config_hash", "checkpoint_id", "valid_set_id").distinct().count(),
                "no config evaluated twice");
        // a config that lost its race in one generation may be promoted in a later one: evaluated at most once per fidelity
        assertTrue(r.evaluated() <= 2 * r.uniqueCandidates() && r.uniqueCandidates() < r.candidates(),
                "parents and shared configs are not re-evaluated: " + r);
        Row runs = spark.read().parquet(root + "/sweeps/a/runs").first();
        assertEquals("finished", runs.getAs("status"));
        assertRacedHonestly("a");
        assertTrue(runs.<Long>getAs("subset_tokens") > 0 && runs.<Long>getAs("full_tokens") > 0, runs.toString());
        assertTrue(pop.where("fidelity = 'subset'").count() > 0, "some candidates lost their race");
        assertTrue(pop.where("racing_stage = 2").count() > 0, "the second stage raced");
        assertTrue(pop.where("fidelity = 'full' AND (racing_stage != 2 OR stage_tokens <= 0)").isEmpty(),
                "every fully evaluated config passed both stages");
        // racing's full-set loss is summed over the stages' parts and the rest: what one pass over the whole set gives
        Row winner = spark.read().parquet(root + "/sweeps/a/best").orderBy("budget_ms").first();
        Layout layout = new Layout(root);
        String ckpt = new dev.hatspark.jobs.cli.CheckpointOption().resolve(new dev.hatspark.jobs.store.Fs(
                spark.sparkContext().hadoopConfiguration()), layout);
        try (var lease = dev.hatspark.jobs.supernet.ExecutorModels.evaluator(
                dev.hatspark.jobs.supernet.Evaluations.key(spark, layout, ckpt, 0, 512))) {
            assertEquals(lease.get().validLoss(dev.hatspark.space.ArchConfig.fromJson(winner.getAs("config_json"))),
                    winner.<Double>getAs("val_loss"), 1e-5);
        }
    }

    /**
     * A racing sweep: parents and winners have full-set losses, subset-only rows have none, and front/ is
     * {@link dev.hatspark.search.Pareto#front} of the fully evaluated rows.
     */
    static void assertRacedHonestly(String id) {
        Dataset<Row> pop = spark.read().parquet(root + "/sweeps/" + id + "/population");
        assertTrue(pop.where("origin = 'parent' AND (fidelity != 'full' OR val_loss IS NULL)").isEmpty(),
                "every parent was chosen on a full-set loss");
        assertTrue(pop.where("fidelity = 'subset' AND (val_loss IS NOT NULL OR subset_loss IS NULL)").isEmpty());
        assertTrue(pop.where("fidelity = 'full' AND val_loss IS NULL").isEmpty());
        Dataset<Row> full = pop.where("fidelity = 'full'");
        for (Row b : spark.read().parquet(root + "/sweeps/" + id + "/best").collectAsList()) {
            assertFalse(full.where("budget_ms = " + b.getAs("budget_ms") + " AND config_hash = '" + b.getAs("config_hash") + "'")
                    .isEmpty(), "the winner of " + b.getAs("budget_ms") + " ms was evaluated on the full set there");
        }
        // every child's parents were fully evaluated by an earlier generation
        List<String> fullHashes = full.select("config_hash").distinct().as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        for (Row r : pop.where("origin IN ('mutation', 'crossover', 'parent')").select("parent_hashes").collectAsList()) {
            assertTrue(fullHashes.containsAll(r.getList(0)), "parents " + r.getList(0) + " have full-set losses");
        }
        List<dev.hatspark.search.Pareto.Point> points = full.groupBy("config_hash")
                .agg(org.apache.spark.sql.functions.min("predicted_latency_ms"), org.apache.spark.sql.functions.min("val_loss"))
                .collectAsList().stream().map(r -> new dev.hatspark.search.Pareto.Point(r.getDouble(1), r.getDouble(2), r.getString(0)))
                .toList();
        List<String> want = dev.hatspark.search.Pareto.front(points).stream().map(dev.hatspark.search.Pareto.Point::id).toList();
        List<String> front = spark.read().parquet(root + "/sweeps/" + id + "/front").orderBy("predicted_latency_ms")
                .select("config_hash").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertFalse(want.isEmpty());
        assertEquals(want, front);
    }

    @Test
    @Order(9)
    void racingOffEvaluatesEveryCandidateInFullAndAutoBudgetsSpreadTheRange() throws Exception {
        Sweep off = sweep("off");
        off.racing.mode = "off";
        off.run(spark);
        Dataset<Row> pop = spark.read().parquet(root + "/sweeps/off/population");
        assertTrue(pop.where("fidelity != 'full' OR val_loss IS NULL OR subset_loss IS NOT NULL OR subset_tokens != 0").isEmpty());
        Dataset<Row> raced = spark.read().parquet(root + "/sweeps/a/population");
        String cols = "budget_ms, rank, config_hash";
        assertEquals(raced.where("generation = 0").selectExpr(cols.split(", ")).orderBy("budget_ms", "rank").collectAsList(),
                pop.where("generation = 0").selectExpr(cols.split(", ")).orderBy("budget_ms", "rank").collectAsList(),
                "the same first generation, which races then prune");
        long offFull = pop.where("fidelity = 'full'").select("config_hash").distinct().count();
        long racedFull = raced.where("fidelity = 'full'").select("config_hash").distinct().count();
        assertTrue(racedFull < offFull, "racing evaluates fewer configs in full: " + racedFull + " vs " + offFull);

        Sweep auto = sweep("auto");
        auto.budgets = null;
        auto.autoBudgets = 2;
        auto.generations = 1;
        auto.run(spark);
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), spark.read().parquet(root + "/latency/measurements")
                .select("hardware_id").first().getString(0));
        var tiny = dev.hatspark.space.DesignSpace.parse(TINY_SPACE, "tiny");
        List<Double> budgets = spark.read().parquet(root + "/sweeps/auto/best").orderBy("budget_ms").select("budget_ms")
                .as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList();
        assertEquals(List.of(Math.round(p.predictMs(tiny.largest()) * 10) / 10.0), budgets.subList(1, 2),
                "the loosest budget is the largest config's latency");
        assertEquals(2, budgets.size());
    }

    @Test
    @Order(9)
    void aResumedSweepEndsWhereAnUninterruptedOneDoes() throws Exception {
        Sweep interrupted = sweep("b");
        interrupted.stopAfter = 1;
        interrupted.run(spark);
        assertEquals(2, spark.read().parquet(root + "/sweeps/b/population").select("generation").distinct().count());
        sweep("b").run(spark);
        String cols = "budget_ms, generation, rank, config_hash, predicted_latency_ms, val_loss, origin, parent_hashes,"
                + " fidelity, subset_loss, subset_margin";
        assertEquals(spark.read().parquet(root + "/sweeps/a/population").selectExpr(cols.split(", ")).orderBy("budget_ms", "generation", "rank").collectAsList(),
                spark.read().parquet(root + "/sweeps/b/population").selectExpr(cols.split(", ")).orderBy("budget_ms", "generation", "rank").collectAsList());
        assertEquals(spark.read().parquet(root + "/sweeps/a/best").drop("sweep_id").collectAsList(),
                spark.read().parquet(root + "/sweeps/b/best").drop("sweep_id").collectAsList());
        assertEquals(spark.read().parquet(root + "/sweeps/a/front").drop("sweep_id").orderBy("predicted_latency_ms").collectAsList(),
                spark.read().parquet(root + "/sweeps/b/front").drop("sweep_id").orderBy("predicted_latency_ms").collectAsList());
        assertRacedHonestly("b");
    }

    @Test
    @Order(9)
    void aSweepStartedWithRacingRuleOneResumesWithIt() throws Exception {
        assertResumesAsStarted("rule1", s -> { }, s -> s.racing.rule = 1); // what sweeps started before rule 2 ran
        assertFalse(spark.read().parquet(root + "/sweeps/rule1/runs").first().<String>getAs("parameters").contains("\"rule\""),
                "recorded without a rule, as before rule 2");
        assertTrue(spark.read().parquet(root + "/sweeps/a/runs").first().<String>getAs("parameters").contains("\"rule\":3"));
    }

    @Test
    @Order(9)
    void aSweepStartedWithRuleTwosDefaultsResumesWithThem() throws Exception {
        // the default stages before rule 3 and rule 2, resumed with this version's default stages and rule
        assertResumesAsStarted("rule2", s -> s.racing.fractions = Racing.Params.DEFAULT.fractions(), s -> {
            s.racing.rule = 2;
            s.racing.fractions = Racing.Params.rule2Fractions();
        });
        assertTrue(spark.read().parquet(root + "/sweeps/rule2/runs").first().<String>getAs("parameters")
                .contains("\"fractions\":[0.1,0.3],\"min_sentences\":8,\"k\":2.0,\"seed\":1,\"rule\":2"));
    }

    /**
     * A sweep started with {@code older} options (on top of {@code base}), stopped after a generation and resumed with
     * {@code base} alone, ends as an uninterrupted sweep with the older options.
     */
    private static void assertResumesAsStarted(String id, Consumer<Sweep> base, Consumer<Sweep> older) throws Exception {
        Sweep first = sweep(id), resumed = sweep(id), whole = sweep(id + "-whole");
        List.of(first, resumed, whole).forEach(base);
        older.accept(first);
        older.accept(whole);
        first.stopAfter = 1;
        first.run(spark);
        resumed.run(spark);
        whole.run(spark);
        String cols = "budget_ms, generation, rank, config_hash, val_loss, fidelity, subset_margin";
        assertEquals(spark.read().parquet(root + "/sweeps/" + id + "-whole/population").selectExpr(cols.split(", "))
                        .orderBy("budget_ms", "generation", "rank").collectAsList(),
                spark.read().parquet(root + "/sweeps/" + id + "/population").selectExpr(cols.split(", "))
                        .orderBy("budget_ms", "generation", "rank").collectAsList(), id + ": resumed as it started");
    }

    @Test
    @Order(9)
    void aSweepKilledBetweenItsEvaluationsAndItsPopulationResumesExactly() throws Exception {
        // a run root of its own with an empty cache, so that the sweep evaluates (and marks) all it needs
        Path own = dir.resolve("own-cache");
        for (String d : List.of("corpus", "supernet", "latency")) {
            copy(Path.of(root, d), own.resolve(d));
        }
        Sweep first = sweep("k");
        first.run.root = own.toString();
        first.generations = 2;
        first.run(spark);
        String sweep = own + "/sweeps/k/";
        List<Row> population = spark.read().parquet(sweep + "population").orderBy("budget_ms", "generation", "rank").collectAsList();
        List<Row> best = spark.read().parquet(sweep + "best").orderBy("budget_ms").collectAsList();
        List<Row> front = spark.read().parquet(sweep + "front").orderBy("config_hash").collectAsList();
        assertTrue(population.stream().anyMatch(r -> r.<Integer>getAs("generation") == 1 && !r.<Boolean>getAs("cache_hit")),
                "generation 1 evaluated configs of its own");
        // what a kill leaves between generation 1's appends to evaluations/ and to population/; then the run
        // root is moved (as a copy to another bucket prefix would): the sweep names its checkpoint relative to it
        SmallRun.delete(Path.of(sweep, "population", "generation=1"));
        Path moved = dir.resolve("own-cache-moved");
        java.nio.file.Files.move(own, moved);
        String movedSweep = moved + "/sweeps/k/";
        assertTrue(spark.read().parquet(movedSweep + "runs").first().<String>getAs("parameters")
                .contains("\"checkpoint\":\"supernet/checkpoints/"));
        Sweep resumed = sweep("k");
        resumed.run.root = moved.toString();
        resumed.generations = 2;
        resumed.run(spark);
        assertEquals(population, spark.read().parquet(movedSweep + "population").orderBy("budget_ms", "generation", "rank").collectAsList(),
                "every column, cache_hit and tokens too");
        assertEquals(best, spark.read().parquet(movedSweep + "best").orderBy("budget_ms").collectAsList());
        assertEquals(front, spark.read().parquet(movedSweep + "front").orderBy("config_hash").collectAsList());
    }

    @Test
    @Order(10)
    void randomSearchAndBadBudgets() throws Exception {
        Sweep rnd = sweep("r");
        rnd.random = true;
        Sweep.Result r = (Sweep.Result) rnd.run(spark);
        Dataset<Row> pop = spark.read().parquet(root + "/sweeps/r/population");
        assertEquals(3 * 4 * 12, pop.count(), "same number of candidates as the evolutionary sweep");
        assertTrue(pop.where("origin != 'random'").isEmpty());
        assertEquals(3, r.best().size());
        Sweep bad = sweep("bad");
        bad.budgets = new double[] {50, -1};
        var e = assertThrows(IllegalArgumentException.class, () -> bad.run(spark));
        assertTrue(e.getMessage().contains("--budgets must be positive"), e.getMessage());
        Sweep other = sweep("a");
        other.seed = 4;
        var e2 = assertThrows(IllegalArgumentException.class, () -> other.run(spark));
        assertTrue(e2.getMessage().contains("was started with other parameters"), e2.getMessage());
        // a sweep for hardware whose predictor was never fitted here names the ones that were
        Sweep elsewhere = sweep("pi");
        elsewhere.hardwareId = "raspberry-pi-4";
        String fitted = spark.read().parquet(root + "/latency/measurements").select("hardware_id").first().getString(0);
        var e3 = assertThrows(IllegalArgumentException.class, () -> elsewhere.run(spark));
        assertTrue(e3.getMessage().contains("no latency predictor for hardware id 'raspberry-pi-4'")
                && e3.getMessage().contains("(fitted: " + fitted + ")"), e3.getMessage());
        // a missing checkpoint
        Sweep noCkpt = sweep("nock");
        noCkpt.checkpoint.checkpoint = root + "/supernet/checkpoints/step-99999999";
        var e4 = assertThrows(IllegalArgumentException.class, () -> noCkpt.run(spark));
        assertTrue(e4.getMessage().contains("step-99999999 is missing"), e4.getMessage());
    }

    /** An edge device's latencies in HAT's format, imported: its predictor gates the sweep, the supernet evaluates. */
    @Test
    @Order(11)
    void sweepTargetsAnImportedHardwareId() throws Exception {
        String edge = dir.resolve("edge").toString();
        copy(Path.of(root, "corpus"), Path.of(edge, "corpus"));
        copy(Path.of(root, "supernet"), Path.of(edge, "supernet"));
        var tiny = dev.hatspark.space.DesignSpace.parse(TINY_SPACE, "tiny");
        Path csv = dir.resolve("edge-hat.csv");
        Files.writeString(csv, ImportLatencyTest.hatFormat(tiny, 200, 2));
        ImportLatencyTest.importer(edge, "edge-device", csv.toString(), "--space", space).run(spark);
        FitPredictor f = new FitPredictor();
        f.run.root = edge;
        f.hardwareId = "edge-device";
        f.hidden = new int[] {16, 16};
        f.maxIter = 50;
        f.gbtIter = 5;
        assertEquals("hat10", ((FitPredictor.Result) f.run(spark)).features());
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(edge), "edge-device");
        var rng = new java.util.SplittableRandom(4);
        double[] pred = java.util.stream.IntStream.range(0, 101)
                .mapToDouble(i -> p.predictMs(dev.hatspark.space.Genetics.sample(tiny, rng))).sorted().toArray();
        Sweep s = sweep("edge");
        s.run.root = edge;
        s.hardwareId = "edge-device";
        s.budgets = new double[] {pred[50]};
        s.generations = 2;
        s.run(spark);
        List<Row> pop = spark.read().parquet(edge + "/sweeps/edge/population").collectAsList();
        assertEquals(2 * 12, pop.size());
        for (Row r : pop) {
            double predicted = r.getAs("predicted_latency_ms");
            assertEquals(p.predictMs(dev.hatspark.space.ArchConfig.fromJson(r.getAs("config_json"))), predicted, 1e-9,
                    "gated by the imported hardware id's predictor");
            assertTrue(predicted <= pred[50]);
            Double loss = r.getAs("fidelity").equals("full") ? r.getAs("val_loss") : r.getAs("subset_loss");
            assertTrue(loss > 0, "evaluated with the supernet's weights");
        }
        assertTrue(spark.read().parquet(edge + "/sweeps/edge/runs").first().<String>getAs("parameters")
                .contains("\"hardware_id\":\"edge-device\""));
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
