package dev.hatspark.jobs.search;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.cli.CheckpointOption;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.BackgroundCommits;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.search.Budgets;
import dev.hatspark.search.Lockstep;
import dev.hatspark.search.Racing;
import dev.hatspark.jobs.supernet.Evaluations;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.search.Candidate;
import dev.hatspark.search.Evolution;
import dev.hatspark.search.SearchParams;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.Progress;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * sweep: HAT's evolutionary search for many latency budgets in lockstep. Each generation is one Spark
 * job for all budgets: candidates are proposed under the predictor's budget, deduplicated by config
 * hash across budgets and against the evaluation cache, and the rest sharded over executors
 * (balanced by FLOPs) for validation loss. Every finished generation is committed to Parquet, so a
 * restarted sweep resumes after it and ends exactly where an uninterrupted one would.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Evolutionary (or --random) search over several latency budgets; one Spark job per generation.")
public final class Sweep implements Job<Sweep.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(Sweep.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    public RunOptions run = new RunOptions();

    /** Budgets in ms (--budgets MS,...). */
    public double[] budgets;

    /** --budgets auto:N: N budgets spread over the predictor's latency range. */
    public Integer autoBudgets;

    @Option(names = "--budgets", split = ",", paramLabel = "MS|auto:N", description = "Latency budgets in ms, comma-separated;"
            + " or auto:N, N budgets spread evenly over the predictor's latency range (smallest to largest config)")
    void budgets(String[] spec) {
        autoBudgets = spec == null ? null : RacingOptions.autoBudgets(spec);
        budgets = spec == null || autoBudgets != null ? null : RacingOptions.budgets(spec);
    }

    @Option(names = "--budget-percentiles", split = ",", description = "Instead of --budgets: budgets at these percentiles"
            + " (0-100) of the predicted latency of 500 sampled configs (what the demo uses: 20,50,90)")
    public double[] budgetPercentiles;

    @Option(names = "--hardware-id", description = "Predictor to gate candidates with; default: the only one under latency/predictor/")
    public String hardwareId;

    @Option(names = "--sweep-id", description = "Output folder under sweeps/; default: evo-<seed> or random-<seed>")
    public String sweepId;

    @Mixin
    public CheckpointOption checkpoint = new CheckpointOption();

    @Option(names = "--population", description = "Default: ${DEFAULT-VALUE}")
    public int population = 125;

    @Option(names = "--parents", description = "Default: ${DEFAULT-VALUE}")
    public int parents = 25;

    @Option(names = "--mutations", description = "Default: ${DEFAULT-VALUE}")
    public int mutations = 50;

    @Option(names = "--crossovers", description = "Default: ${DEFAULT-VALUE}")
    public int crossovers = 50;

    @Option(names = "--mutation-prob", description = "Default: ${DEFAULT-VALUE}")
    public double mutationProb = 0.3;

    @Option(names = "--generations", description = "Default: ${DEFAULT-VALUE}")
    public int generations = 30;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    public long seed = 1;

    @Option(names = "--random", description = "Random search with the same evaluation budget (a fresh random population each generation)")
    public boolean random;

    @Option(names = "--valid-sentences", description = "Validation pairs used for the loss (0 = the whole valid split). Default: ${DEFAULT-VALUE}")
    public int validSentences = 0;

    @Option(names = "--max-tokens", description = "Default: ${DEFAULT-VALUE}")
    public int maxTokens = 4096;

    @Option(names = "--spark-scoring-threshold", description = "A generation drawn at random (generation 0, --random) with more"
            + " candidates (population × budgets) than this scores them as a Spark job (predict-latency's path). Default: ${DEFAULT-VALUE}")
    public long sparkScoringThreshold = 100_000;

    @Mixin
    public RacingOptions racing = new RacingOptions();

    /** Stops after this generation as if the driver had died there (tests of resume). */
    @Option(names = "--stop-after-generation", hidden = true)
    public Integer stopAfter;

    @Override
    public String name() {
        return "sweep";
    }

    /** Per-budget winner and the sweep's evaluation counts. */
    public record Result(String sweepId, Map<Double, Best> best, long candidates, long uniqueCandidates, long evaluated,
                         long subsetTokens, long fullTokens) {
    }

    public record Best(String configHash, String configJson, double predictedMs, double valLoss) {
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = checkpoint.resolve(fs, layout);
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        DesignSpace space = state.space(ckpt);
        String hw = hardwareId != null ? hardwareId : onlyPredictor(fs, layout);
        LatencyPredictor predictor = LatencyPredictor.load(spark, layout, hw);
        checkSpace(fs, layout, hw, predictor, space);
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        state.requireVocabulary(corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), ckpt);
        SearchParams params = new SearchParams(population, parents, mutations, crossovers, mutationProb, generations, seed);
        SparkScoring scoring = new SparkScoring(predictor, sparkScoringThreshold);
        Evolution evo = new Evolution(space, params, scoring);
        if (autoBudgets != null) {
            budgets = Budgets.spread(space, predictor::predictMs, autoBudgets);
            LOG.info("sweep: {} budgets {} ms spread over the predicted latency range", autoBudgets, Arrays.toString(budgets));
        }
        if ((budgets == null) == (budgetPercentiles == null)) {
            throw new BadInputException("give either --budgets (ms or auto:N) or --budget-percentiles");
        }
        if (budgetPercentiles != null) {
            budgets = Budgets.percentiles(space, predictor::predictMs, 500, 11, budgetPercentiles);
            LOG.info("sweep: budgets {} ms at percentiles {} of predicted latency", Arrays.toString(budgets),
                    Arrays.toString(budgetPercentiles));
        }
        double[] bs = Arrays.stream(budgets).sorted().distinct().toArray();
        if (bs.length == 0 || !(bs[0] > 0) || !Double.isFinite(bs[bs.length - 1])) { // NaN sorts last
            throw new BadInputException("--budgets must be positive latencies in ms, got " + Arrays.toString(budgets));
        }
        for (double b : bs) {
            evo.checkFeasible(b);
        }
        String id = sweepId != null ? sweepId : (random ? "random-" : "evo-") + seed;
        Layout.Sweep dir = layout.sweep(id);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("budgets_ms", bs);
        meta.put("mode", random ? "random" : "evolution");
        meta.put("params", params);
        meta.put("hardware_id", hw);
        meta.put("checkpoint", layout.relative(ckpt)); // a copied or moved run root resumes its sweeps
        meta.put("valid_sentences", validSentences);
        // the parameters as this version records them, then as older versions did (the keys keep their order): with
        // the absolute checkpoint, and, racing by default, with an earlier default rule and stages, which a sweep
        // started with them resumes with
        List<Racing.Params> racings = racing.accepted(random);
        List<String> spellings = new ArrayList<>();
        for (Racing.Params r : racings) {
            meta.put("racing", RacingOptions.describe(r));
            for (Object checkpoint : List.of(layout.relative(ckpt), ckpt)) {
                meta.put("checkpoint", checkpoint);
                spellings.add(JSON.writeValueAsString(meta));
            }
        }
        Started start = checkRunsAndStart(spark, fs, dir, id, spellings);
        racing.use(racings.get(start.spelling() / 2));
        Timestamp started = start.at();
        String paramsJson = start.parameters();

        Evaluations.Key key = Evaluations.key(spark, layout, ckpt, validSentences, maxTokens);
        // started_at survives a restart (runs/), so it names this sweep run in the evaluations it appends
        String runTag = "sweep " + id + " " + started.toInstant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Races races = new Races(spark, layout, key, racing.params(random), parents, space.qkvDim, state.tgtVocab(), runTag);
        Map<Double, List<Candidate>> current = new TreeMap<>();
        // every committed population row, read once (columns added by later versions read as null): the generation
        // to resume, the promoted configs, and best/ and front/, which are computed from them on the driver
        List<Row> history = !fs.exists(dir.population()) ? new ArrayList<>() : new ArrayList<>(spark.read()
                .schema(Tables.SWEEP_POPULATION).parquet(dir.population()).select(Arrays.stream(Tables.SWEEP_POPULATION.fieldNames())
                        .map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new)).collectAsList());
        int first = resume(history, current);
        races.resume(history);
        if (first > 0) {
            LOG.info("sweep {}: resuming after generation {}", id, first - 1);
            // a kill in the last commit may have left best/ or front/ behind the population
            writeBestAndFront(spark, fs, dir, id, history);
        }
        long t0 = System.nanoTime();
        try (BackgroundCommits commits = new BackgroundCommits("sweep " + id + " commits")) {
            for (int g = first; g < generations; g++) {
                long genStart = System.nanoTime();
                scoring.prepare(spark, evo, space, g, random, bs, population);
                Map<Double, List<Candidate>> next = Lockstep.advance(evo, current, bs, g, random, races.fullLosses());
                double predictS = (System.nanoTime() - genStart) / 1e9;
                Map<String, ArchConfig> unique = Lockstep.unique(next);
                long evalStart = System.nanoTime();
                Races.Outcome out = races.evaluate(g, g == generations - 1, next, unique,
                        String.format("sweep %s generation %d/%d", id, g + 1, generations));
                double evalWallS = (System.nanoTime() - evalStart) / 1e9;
                // the generation is committed while the next one is proposed and evaluated
                List<Row> rows = races.populationRows(id, g, next, out);
                List<Row> cacheRows = races.takeCacheRows();
                history.addAll(rows);
                List<Row> snapshot = List.copyOf(history);
                double waitS = commits.then(() -> {
                    // the evaluations first: a generation resumed after a kill between the two finds them as its own
                    Evaluations.appendRows(spark, layout, cacheRows);
                    fs.appendParquet(spark.createDataFrame(rows, Tables.SWEEP_POPULATION).coalesce(1), dir.population(), "generation");
                    writeBestAndFront(spark, fs, dir, id, snapshot);
                });
                current = next;
                logGeneration(id, g, next, races.fullLosses(), unique.size(), out, predictS, evalWallS, waitS,
                        (System.nanoTime() - genStart) / 1e9, (System.nanoTime() - t0) / 1e9 / (g - first + 1));
                if (stopAfter != null && g == stopAfter) {
                    commits.await();
                    return null;
                }
            }
            double tail = commits.await();
            LOG.info(String.format("sweep %s: last generation committed (%.1fs after its evaluation)", id, tail));
        }
        HatExport.writeSweepWinners(spark, fs, dir, space.name);
        writeRuns(spark, fs, dir, id, paramsJson, started, Timestamp.from(Instant.now()), "finished");
        return result(spark, fs, id, dir);
    }

    /**
     * The predictor must have been fitted on latencies of the supernet's design space (imported data
     * too: HAT's files are of HAT's space); otherwise stop, naming every differing choice.
     */
    static void checkSpace(Fs fs, Layout layout, String hw, LatencyPredictor predictor, DesignSpace supernet) {
        DesignSpace measured = predictor.spec().space();
        if (measured == null) {
            return;
        }
        String label = fs.exists(layout.latencyImport(hw)) ? "imported" : "measured";
        List<String> diff = measured.differences(supernet, label, "supernet");
        if (!diff.isEmpty()) {
            throw new BadInputException("the latency predictor of hardware id '" + hw + "' was fitted on latencies of design space '"
                    + measured.name + "', the supernet's is '" + supernet.name + "'; they differ in " + String.join("; ", diff)
                    + ": measure or import latencies of the supernet's space");
        }
    }

    private static String onlyPredictor(Fs fs, Layout layout) {
        List<String> ids = fs.listIds(layout.predictors());
        if (ids.size() != 1) {
            throw new BadInputException("--hardware-id is needed: latency/predictor/ has " + ids);
        }
        return ids.get(0);
    }

    /** Rebuilds the last finished generation of every budget; returns the generation to run next. */
    /** The last committed generation's populations into {@code current}; the generation to run next. */
    private static int resume(List<Row> history, Map<Double, List<Candidate>> current) {
        int g = history.stream().mapToInt(r -> r.getInt(r.fieldIndex("generation"))).max().orElse(-1);
        history.stream().filter(r -> r.getInt(r.fieldIndex("generation")) == g)
                .sorted(java.util.Comparator.<Row>comparingDouble(r -> r.getDouble(r.fieldIndex("budget_ms")))
                        .thenComparingInt(r -> r.getInt(r.fieldIndex("rank"))))
                .forEach(r -> current.computeIfAbsent(r.getDouble(r.fieldIndex("budget_ms")), k -> new ArrayList<>()).add(
                        new Candidate(ArchConfig.fromJson(r.getString(r.fieldIndex("config_json"))), r.getString(r.fieldIndex("origin")),
                                r.getList(r.fieldIndex("parent_hashes")), r.getDouble(r.fieldIndex("predicted_latency_ms")))));
        return g + 1;
    }

    /** best/ (per budget the lowest full-set loss of any generation) and front/ of the population so far. */
    private static void writeBestAndFront(SparkSession spark, Fs fs, Layout.Sweep dir, String id, List<Row> population) {
        fs.writeParquet(spark.createDataFrame(SweepTables.best(population), Tables.SWEEP_BEST).coalesce(1), dir.best());
        fs.writeParquet(spark.createDataFrame(SweepTables.front(population, id), Tables.SWEEP_FRONT).coalesce(1), dir.front());
    }

    /** When a sweep started, the parameters its runs/ row keeps, and which of the accepted spellings they are. */
    private record Started(Timestamp at, String parameters, int spelling) {
    }

    /**
     * Checks a sweep being resumed was started with one of {@code spellings} of its parameters (the current one first;
     * then older spellings, which it keeps) and marks it running.
     */
    private Started checkRunsAndStart(SparkSession spark, Fs fs, Layout.Sweep dir, String id, List<String> spellings) {
        String path = dir.runs();
        Started start = new Started(Timestamp.from(Instant.now()), spellings.get(0), 0);
        if (fs.hasCurrent(path)) {
            Row r = spark.read().parquet(fs.current(path)).first();
            String stored = r.getAs("parameters");
            int i = spellings.indexOf(stored);
            if (i < 0) {
                throw new BadInputException("sweep '" + id + "' at " + dir.dir() + " was started with other parameters ("
                        + stored + "); use another --sweep-id or the same options");
            }
            start = new Started(r.getAs("started_at"), stored, i);
        }
        writeRuns(spark, fs, dir, id, start.parameters(), start.at(), null, "running");
        return start;
    }

    private void writeRuns(SparkSession spark, Fs fs, Layout.Sweep dir, String id, String paramsJson, Timestamp started,
                           Timestamp finished, String status) {
        String version = String.valueOf(Sweep.class.getPackage().getImplementationVersion());
        long[] tokens = Races.tokens(spark, fs, dir.population());
        List<Row> rows = List.of(RowFactory.create(id, paramsJson, seed, version, started, finished, status, tokens[0], tokens[1]));
        fs.writeParquet(spark.createDataFrame(rows, Tables.SWEEP_RUNS).coalesce(1), dir.runs());
    }

    private static Result result(SparkSession spark, Fs fs, String id, Layout.Sweep dir) {
        Dataset<Row> pop = spark.read().parquet(dir.population());
        Map<Double, Best> best = new TreeMap<>();
        for (Row r : spark.read().parquet(fs.current(dir.best())).collectAsList()) {
            best.put(r.getAs("budget_ms"), new Best(r.getAs("config_hash"), r.getAs("config_json"),
                    r.getAs("predicted_latency_ms"), r.getAs("val_loss")));
        }
        long candidates = pop.count();
        long unique = pop.select("config_hash").distinct().count();
        long evaluated = pop.where("not cache_hit").select("generation", "config_hash").distinct().count();
        long[] tokens = Races.tokens(spark, fs, dir.population());
        return new Result(id, best, candidates, unique, evaluated, tokens[0], tokens[1]);
    }

    private void logGeneration(String id, int g, Map<Double, List<Candidate>> pop, Map<String, Double> loss, int unique,
                               Races.Outcome out, double predictS, double evalWallS,
                               double commitWaitS, double wallS, double perGen) {
        StringBuilder best = new StringBuilder();
        pop.forEach((b, list) -> best.append(String.format(" %.0fms:%.4f", b, list.stream().filter(c -> loss.containsKey(c.hash()))
                .mapToDouble(c -> loss.get(c.hash())).min().orElse(Double.NaN))));
        double maxPart = out.slowestTaskS();
        double meanPart = out.meanTaskS();
        // Spark's share: scheduling, serialization and task launch around the slowest task, plus the time spent
        // waiting for the previous generation's Parquet commit (it runs while this generation is evaluated)
        double overhead = Math.max(0, evalWallS - maxPart) + commitWaitS;
        LOG.info(String.format("sweep %s generation %d/%d: best%s | %d candidates, %d unique, %s |"
                        + " wall %.1fs: predictor %.2fs, evaluation jobs %.1fs (slowest tasks %.1fs, mean %.1fs, max/mean %.2f),"
                        + " waiting for the previous commit %.1fs; Spark overhead %.1fs = %.0f%% | ETA %s",
                id, g + 1, generations, best, pop.values().stream().mapToInt(List::size).sum(), unique, out.summary(),
                wallS, predictS, evalWallS, maxPart, meanPart, meanPart > 0 ? maxPart / meanPart : 0, commitWaitS, overhead,
                100 * overhead / wallS,
                Progress.eta(perGen * (generations - g - 1))));
    }
}
