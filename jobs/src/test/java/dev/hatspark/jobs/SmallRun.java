package dev.hatspark.jobs;

import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.supernet.TrainSupernet;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A real small run root for the tests of what analysts read (tables, notebooks, report): corpus, a
 * 4-update supernet, a few evaluations, 40 latency measurements, a predictor and a 2-generation sweep
 * over two budgets, all through the jobs themselves. Built once per test JVM under
 * {@code target/small-run} (kept after the build, so its report can be opened).
 */
final class SmallRun {
    static final Path ROOT = Path.of("target", "small-run").toAbsolutePath();
    private static boolean built;

    private SmallRun() {
    }

    /** A local Spark session for tests (shared by the test classes of this JVM). */
    static SparkSession spark() {
        System.setProperty("hat.spark.master", "local[2]");
        return Spark.session("test");
    }

    static synchronized String root(SparkSession spark) throws Exception {
        if (built) {
            return ROOT.toString();
        }
        delete(ROOT);
        Files.createDirectories(ROOT);
        String root = ROOT.toString();
        Path spaceFile = ROOT.getParent().resolve("small-run-tiny.yaml");
        Files.writeString(spaceFile, PipelineTest.TINY_SPACE);

        PrepareCorpus p = new PrepareCorpus();
        p.run.root = root;
        p.limit = 300;
        p.vocabSize = 300;
        p.validFraction = 0.1;
        p.testFraction = 0.1;
        p.run(spark);

        TrainSupernet t = new TrainSupernet();
        t.run.root = root;
        t.space = spaceFile.toString();
        t.recipe.steps = 4;
        t.recipe.maxTokens = 512;
        t.recipe.warmup = 2;
        t.recipe.lr = 2e-3f;
        t.recipe.validEvery = 2;
        t.recipe.checkpointEvery = 2;
        t.recipe.logEvery = 2;
        t.recipe.maxLen = 64;
        t.run(spark);

        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.largest = true;
        e.smallest = true;
        e.maxTokens = 512;
        e.run(spark);

        MeasureLatency m = new MeasureLatency();
        m.run.root = root;
        m.samples = 40;
        m.protocolOptions.srcLen = 8;
        m.protocolOptions.steps = 8;
        m.protocolOptions.warmup = 1;
        m.protocolOptions.runs = 5;
        m.chunk = 10;
        m.run(spark);

        FitPredictor f = new FitPredictor();
        f.run.root = root;
        f.hidden = new int[] {8};
        f.maxIter = 30;
        f.gbtIter = 3;
        f.run(spark);

        // two budgets at the 40th and 90th percentile of predicted latency, so both are feasible
        String hw = Hardware.localId(spark);
        LatencyPredictor predictor = LatencyPredictor.load(spark, new Layout(root), hw);
        DesignSpace space = DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
        SplittableRandom rng = new SplittableRandom(5);
        double[] ms = IntStream.range(0, 100).mapToDouble(i -> predictor.predictMs(Genetics.sample(space, rng))).sorted().toArray();
        Sweep s = new Sweep();
        s.run.root = root;
        s.sweepId = "small";
        s.hardwareId = hw;
        s.budgets = new double[] {Math.ceil(ms[40] * 10) / 10, Math.ceil(ms[90] * 10) / 10};
        s.population = 8;
        s.parents = 3;
        s.mutations = 3;
        s.crossovers = 2;
        s.generations = 2;
        s.maxTokens = 512;
        s.run(spark);
        built = true;
        return root;
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            });
        }
    }
}
