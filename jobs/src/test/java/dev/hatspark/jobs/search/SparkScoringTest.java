package dev.hatspark.jobs.search;

import dev.hatspark.jobs.latency.ImportHatPredictor;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.search.Candidate;
import dev.hatspark.search.Evolution;
import dev.hatspark.search.Lockstep;
import dev.hatspark.search.SearchParams;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The sweep with an imported HAT predictor: its space check, and a random-stream generation scored as a
 * Spark job (above the threshold) against the same generation scored in-process: identical populations.
 */
class SparkScoringTest {
    static final Path FIXTURE = Path.of("..", "common", "src", "test", "resources", "hat-predictor").toAbsolutePath().normalize();

    @TempDir
    static Path dir;
    static SparkSession spark;
    static LatencyPredictor predictor;
    static Layout layout;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
        layout = new Layout(dir.resolve("root").toString());
        ImportHatPredictor i = new ImportHatPredictor();
        new CommandLine(i).parseArgs(FIXTURE.resolve("predictor-legacy.pt").toString(), "--root", layout.root(),
                "--hardware-id", "toy", "--lat-norm", "300");
        i.run(spark);
        predictor = LatencyPredictor.load(spark, layout, "toy");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void anImportedPredictorPassesTheSpaceCheckOfItsSpaceOnly() {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Sweep.checkSpace(fs, layout, "toy", predictor, DesignSpace.builtin("hat-wmt14"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> Sweep.checkSpace(fs, layout, "toy", predictor, DesignSpace.builtin("demo")));
        assertTrue(e.getMessage().contains("'hat-wmt14', the supernet's is 'demo'"), e.getMessage());
    }

    @Test
    void sparkAndInProcessScoringGiveTheSamePopulations() {
        DesignSpace space = DesignSpace.builtin("hat-wmt14");
        SearchParams params = new SearchParams(40, 10, 15, 15, 0.3, 3, 7);
        // budgets at the 20th and 60th percentile of the predictor over the space, so most draws are rejected
        double[] budgets = dev.hatspark.search.Budgets.percentiles(space, predictor::predictMs, 300, 3, new double[] {20, 60});
        for (boolean random : new boolean[] {false, true}) {
            int generation = random ? 2 : 0;
            SparkScoring viaSpark = new SparkScoring(predictor, 0);
            Evolution a = new Evolution(space, params, viaSpark);
            viaSpark.prepare(spark, a, space, generation, random, budgets, params.population());
            assertTrue(viaSpark.sparkScored() >= 80, "the stream was scored by Spark: " + viaSpark.sparkScored());
            Map<Double, List<Candidate>> spark = Lockstep.advance(a, Map.of(), budgets, generation, random, Map.of());

            SparkScoring inProcess = new SparkScoring(predictor, Long.MAX_VALUE);
            Evolution b = new Evolution(space, params, inProcess);
            inProcess.prepare(SparkScoringTest.spark, b, space, generation, random, budgets, params.population());
            assertEquals(0, inProcess.sparkScored());
            Map<Double, List<Candidate>> local = Lockstep.advance(b, Map.of(), budgets, generation, random, Map.of());
            assertEquals(local, spark);
            for (double budget : budgets) {
                assertEquals(40, spark.get(budget).size());
                spark.get(budget).forEach(c -> assertTrue(c.predictedMs() <= budget));
            }
        }
    }

    @Test
    void benchScoringMeasuresEveryPathAndLeavesOutWhatWouldTakeTooLong() {
        dev.hatspark.jobs.bench.ScoringBenchmark b = new dev.hatspark.jobs.bench.ScoringBenchmark();
        b.run.root = layout.root();
        b.hardwareId = "toy";
        b.sizes = new long[] {100, 1_000_000_000L};
        b.maxSeconds = 60;
        dev.hatspark.jobs.bench.ScoringBenchmark.Result r = b.run(spark);
        assertEquals(2, r.rows().size());
        var small = r.rows().get(0);
        for (double rate : new double[] {small.inProcess(), small.sweepSpark(), small.predictLatencyJob()}) {
            assertTrue(rate > 0 && Double.isFinite(rate), small.toString());
        }
        var huge = r.rows().get(1);
        assertTrue(Double.isNaN(huge.inProcess()) && Double.isNaN(huge.sweepSpark()) && Double.isNaN(huge.predictLatencyJob()),
                "10^9 configs would take far beyond 60 s: " + huge);
        assertTrue(r.toString().contains("toy"), r.toString());
    }
}
