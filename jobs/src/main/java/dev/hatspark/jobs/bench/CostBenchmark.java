package dev.hatspark.jobs.bench;

import ai.djl.ndarray.NDManager;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.model.Batch;
import dev.hatspark.model.Batches;
import dev.hatspark.model.Flops;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.Torch;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bench-cost (a benchmark, not a test): (1) a least-squares model of one evaluation's cost from forward
 * FLOPs and batches, timed on one PyTorch thread as an executor core runs it; (2) the Spark overhead per
 * sweep generation on 1 and 2 executors, from small sweeps run in child JVMs; (3) from both, the
 * projected wall time of a many-budget sweep over HAT's WMT'14 space on a cluster.
 */
@Command(name = "bench-cost", mixinStandardHelpOptions = true,
        description = "Benchmark: evaluation cost model, Spark overhead per generation, projected sweep wall time (needs a trained run root).")
public final class CostBenchmark implements Job<String> {
    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--configs", description = "Configs timed: smallest, largest, median and random ones. Default: ${DEFAULT-VALUE}")
    public int configs = 10;

    @Option(names = "--sizes", split = ",", description = "Validation-set sizes in sentences (0 = all). Default: 80,160,0")
    public int[] sizes = {80, 160, 0};

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    public long seed = 1;

    @Option(names = "--max-tokens", description = "Default: ${DEFAULT-VALUE}")
    public int maxTokens = 4096;

    @Option(names = "--repeats", description = "Timed runs per config and size; the fastest counts. Default: ${DEFAULT-VALUE}")
    public int repeats = 2;

    @Option(names = "--threads", description = "PyTorch threads (an executor task has 1). Default: ${DEFAULT-VALUE}")
    public int threads = 1;

    @Option(names = "--executors", split = ",", description = "Executor counts of the overhead sweeps (none: skip them). Default: 1,2")
    public int[] executors = {1, 2};

    @Option(names = "--cluster", description = "local-cluster (one worker JVM per executor) or local (threads). Default: ${DEFAULT-VALUE}")
    public String cluster = "local-cluster";

    @Option(names = "--racing-modes", split = ",", description = "Racing modes of the overhead sweeps. Default: off,on")
    public String[] racingModes = {"off", "on"};

    @Option(names = "--sweep-generations", description = "Default: ${DEFAULT-VALUE}")
    public int sweepGenerations = 3;

    @Option(names = "--sweep-sentences", description = "--valid-sentences of the overhead sweeps. Default: ${DEFAULT-VALUE}")
    public int sweepSentences = 40;

    @Option(names = "--scratch", description = "Local folder for the overhead sweeps' run roots and logs. Default: ${DEFAULT-VALUE}")
    public String scratch = System.getProperty("java.io.tmpdir") + "/hat-bench-cost";

    @Option(names = "--overhead", split = ",", description = "Skip measuring: Spark overhead s per generation, racing off,on")
    public double[] overheadGiven;

    @Option(names = "--budgets", description = "Projection: budgets. Default: ${DEFAULT-VALUE}")
    public int budgets = 10;

    @Option(names = "--wmt-sentences", description = "Projection: validation sentences (newstest2013). Default: ${DEFAULT-VALUE}")
    public int wmtSentences = 3000;

    @Option(names = "--wmt-target-tokens", description = "Projection: BPE tokens per sentence, EOS included, source alike. Default: ${DEFAULT-VALUE}")
    public int wmtTokens = 25;

    @Option(names = "--wmt-vocab", description = "Projection: joint BPE vocabulary. Default: ${DEFAULT-VALUE}")
    public int wmtVocab = 32000;

    @Option(names = "--lockstep-ratio", description = "Projection: lockstep evaluations / separate sweeps' (README: 299 / 633"
            + " configs, 10 budgets, shared crossovers). Default: ${DEFAULT-VALUE}")
    public double lockstepRatio = 0.47;

    @Option(names = "--racing-stages", split = ",", description = "Projection: where the racing stages end, as shares of the"
            + " validation set (the sweep's --racing-fraction). Default: 0.1,0.25,0.5")
    public double[] racingStages = {0.1, 0.25, 0.5};

    @Option(names = "--racing-reach", split = ",", description = "Projection: shares of raced configs scored by each later stage,"
            + " then on the rest (README: the 10-budget sweep, default stages, racing rule 3). Default: 0.52,0.39,0.32")
    public double[] racingReach = {0.52, 0.39, 0.32};

    @Option(names = "--fit", split = ",", description = "Skip timing: the cost model's ms per GFLOP, ms per batch, intercept ms")
    public double[] fitGiven;

    @Option(names = "--cluster-executors", split = ",", description = "Projection: executor counts. Default: 16,64")
    public int[] clusterExecutors = {16, 64};

    @Option(names = "--cluster-cores", description = "Projection: cores per executor, one task each. Default: ${DEFAULT-VALUE}")
    public int clusterCores = 16;

    private static final Pattern GENERATION = Pattern.compile("generation (\\d+)/\\d+: .*\\| wall ([\\d.]+)s: predictor ([\\d.]+)s,"
            + " evaluation jobs ([\\d.]+)s \\(slowest tasks ([\\d.]+)s.*commit ([\\d.]+)s; Spark overhead ([\\d.]+)s = (\\d+)%");

    @Override
    public String name() {
        return "bench-cost";
    }

    @Override
    public String run(SparkSession spark) throws Exception {
        if (overheadGiven == null && executors.length > 0) {
            localRoot(); // before minutes of timing
        }
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = Checkpoints.latestOf(fs, layout);
        CostModel.Fit fit = fitGiven == null ? costModel(spark, fs, layout, ckpt) : given(fitGiven);

        Map<String, Double> overhead = new LinkedHashMap<>();
        if (overheadGiven != null) {
            overhead.put("off", overheadGiven[0]);
            overhead.put("on", overheadGiven[overheadGiven.length - 1]);
            System.out.printf("%nSpark overhead per generation given: racing off %.2f s, on %.2f s%n", overhead.get("off"), overhead.get("on"));
        } else if (executors.length > 0) {
            overhead = overheads();
        }
        project(fit, overhead.getOrDefault("off", 0.0), overhead.getOrDefault("on", overhead.getOrDefault("off", 0.0)));
        return "see above";
    }

    private static CostModel.Fit given(double[] f) {
        if (f.length != 3) {
            throw new IllegalArgumentException("--fit: expected 3 numbers (ms per GFLOP, ms per batch, intercept ms), got " + f.length);
        }
        System.out.printf("== 1. evaluation cost model given: ms = %.1f · GFLOP + %.2f · batches + %.1f%n", f[0], f[1], f[2]);
        return new CostModel.Fit(f[0], f[1], f[2], Double.NaN, 0);
    }

    /** Part 1: each config timed once per validation size after one warm-up; least squares over all. */
    private CostModel.Fit costModel(SparkSession spark, Fs fs, Layout layout, String ckpt) {
        Torch.threads(threads, 1);
        System.out.printf("== 1. evaluation cost model (%s, %d PyTorch thread(s), load %s)%n", ckpt, Torch.threads(), loadavg());
        List<List<Batch>> sets = new ArrayList<>();
        for (int s : sizes) {
            sets.add(Batches.byTokens(Corpus.validation(spark, layout, s).pairs(), maxTokens));
        }
        List<double[]> obs = new ArrayList<>(); // gflop, batches, ms

        List<String> table = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            System.out.printf("DJL matmul 512x512: %.1f GFLOP/s%n", EvalBenchmark.matmulGflops(root, 512));
            SuperTransformer model = Checkpoints.loadModel(fs, ckpt, root);
            DesignSpace space = model.space();
            Map<String, ArchConfig> cs = new LinkedHashMap<>();
            cs.put("smallest", space.smallest());
            cs.put("largest", space.largest());
            cs.put("median", space.median());
            List<ArchConfig> random = Genetics.sampleDistinct(space, Math.max(0, configs - 3), seed);
            for (int i = 0; i < random.size(); i++) {
                cs.put("random " + (i + 1), random.get(i));
            }
            List<SubnetEvaluator> evs = sets.stream().map(b -> new SubnetEvaluator(model, b)).toList();
            evs.forEach(ev -> ev.validLoss(space.largest())); // PyTorch's allocator grows to every batch shape once
            for (Map.Entry<String, ArchConfig> e : cs.entrySet()) {
                ArchConfig c = e.getValue();
                evs.get(0).validLoss(c); // warm-up
                for (int i = 0; i < evs.size(); i++) {
                    double ms = Double.MAX_VALUE;
                    for (int r = 0; r < repeats; r++) { // the fastest of the repeats: the load only ever adds time
                        long t0 = System.nanoTime();
                        evs.get(i).validLoss(c);
                        ms = Math.min(ms, (System.nanoTime() - t0) / 1e6);
                    }
                    double gflop = Flops.forward(c, space.qkvDim, model.tgtVocab(), sets.get(i)) / 1e9;
                    obs.add(new double[]{gflop, sets.get(i).size(), ms});
                    int sentences = sets.get(i).stream().mapToInt(b -> b.size).sum();
                    table.add(String.format("| %s | %d/%d, %d/%d, ffn %.0f/%.0f | %d | %,d | %d | %.2f | %,.0f | %.1f |",
                            e.getKey(), c.encoderLayerNum(), c.decoderLayerNum(), c.encoderEmbedDim(), c.decoderEmbedDim(),
                            avgFfn(c, true), avgFfn(c, false), sentences, evs.get(i).tokens(), sets.get(i).size(), gflop, ms,
                            gflop / ms * 1e3));
                }
            }
        }
        CostModel.Fit fit = CostModel.fit(obs.stream().mapToDouble(o -> o[0]).toArray(),
                obs.stream().mapToDouble(o -> o[1]).toArray(), obs.stream().mapToDouble(o -> o[2]).toArray());
        System.out.println("| config | layers enc/dec, embed enc/dec, ffn avg | sentences | target tokens | batches | GFLOP | ms | GFLOP/s |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        table.forEach(System.out::println);
        System.out.printf("fit: ms = %.1f · GFLOP + %.2f · batches + %.1f  (%.2f GFLOP/s marginal), R² %.4f over %d timings; load %s%n",
                fit.a(), fit.b(), fit.c(), 1e3 / fit.a(), fit.r2(), fit.n(), loadavg());
        return fit;
    }

    private static double avgFfn(ArchConfig c, boolean encoder) {
        int n = encoder ? c.encoderLayerNum() : c.decoderLayerNum();
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += encoder ? c.encoderFfnEmbedDim(i) : c.decoderFfnEmbedDim(i);
        }
        return s / n;
    }

    /** Part 2: a small sweep per (racing mode, executors) in a child JVM; mean overhead of generations after the first. */
    private Map<String, Double> overheads() throws IOException, InterruptedException {
        System.out.printf("%n== 2. Spark overhead per generation (%s, sweeps of %d generations, population 8, 2 budgets, %d validation sentences)%n",
                cluster, sweepGenerations, sweepSentences);
        System.out.println("| racing | executors | generation | wall s | evaluation jobs s | slowest tasks s | waiting for the previous commit s | Spark overhead s | share | load before → after |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        Map<String, Double> steady = new LinkedHashMap<>();
        for (String mode : racingModes) {
            for (int n : executors) {
                String load = loadavg() + " → ";
                List<double[]> gens = sweep(mode, n);
                load += loadavg();
                for (double[] g : gens) {
                    System.out.printf("| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f %% | %s |%n",
                            mode, n, g[0], g[1], g[3], g[4], g[5], g[6], g[7], load);
                }
                // the first generation also starts executors' PyTorch and loads the model: steady state after it
                double mean = gens.stream().skip(gens.size() > 1 ? 1 : 0).mapToDouble(g -> g[6]).average().orElse(Double.NaN);
                steady.put(mode, mean); // the last (largest) executor count wins
            }
        }
        steady.forEach((m, s) -> System.out.printf("steady overhead (generations 2+, %d executors), racing %s: %.2f s per generation%n",
                executors[executors.length - 1], m, s));
        return steady;
    }

    private List<double[]> sweep(String mode, int n) throws IOException, InterruptedException {
        Path base = Path.of(scratch).toAbsolutePath();
        Path root = base.resolve("root-" + mode + "-" + n);
        deleteTree(root);
        Files.createDirectories(root);
        List<String> from = new Layout(localRoot().toString()).sweepInputs();
        List<String> to = new Layout(root.toString()).sweepInputs();
        for (int i = 0; i < from.size(); i++) { // read-only inputs linked; evaluations/ starts empty, so no cache hits
            Files.createSymbolicLink(Path.of(to.get(i)), Path.of(from.get(i)));
        }
        Path sparkHome = base.resolve("spark-home"); // a Worker builds executor command lines from $SPARK_HOME/jars
        Files.createDirectories(sparkHome.resolve("jars"));
        String cp = System.getProperty("java.class.path");
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dai.djl")).toList();
        String master = cluster.equals("local") ? "local[" + n + "]" : "local-cluster[" + n + ",1,2048]";
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
        cmd.addAll(flags);
        // one task per core, as projected (a standalone backend's default is at least 2: one core would run 2 in turn)
        cmd.addAll(List.of("-cp", cp, "-Dhat.spark.master=" + master, "-Dspark.default.parallelism=" + n,
                "-Dspark.executor.extraClassPath=" + cp,
                "-Dspark.executor.extraJavaOptions=" + String.join(" ", flags),
                "dev.hatspark.jobs.Hat", "sweep", "--root", root.toString(), "--sweep-id", "cost", "--budgets", "auto:2",
                "--population", "8", "--parents", "2", "--mutations", "3", "--crossovers", "3",
                "--generations", "" + sweepGenerations, "--valid-sentences", "" + sweepSentences, "--racing", mode));
        Path log = base.resolve("sweep-" + mode + "-" + n + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("overhead sweep (" + master + ", racing " + mode + ") failed; see " + log);
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        List<double[]> gens = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            Matcher m = GENERATION.matcher(line);
            if (m.find()) {
                double[] g = new double[8];
                for (int i = 0; i < 8; i++) {
                    g[i] = Double.parseDouble(m.group(i + 1));
                }
                gens.add(g);
            }
        }
        if (gens.isEmpty()) {
            throw new IllegalStateException("no generation lines in " + log);
        }
        return gens;
    }

    private Path localRoot() {
        if (run.root.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*") && !run.root.startsWith("file:")) {
            throw new BadInputException("--root " + run.root + ": the overhead sweeps link a local run root's inputs;"
                    + " give a local one, or --overhead OFF_S,ON_S to skip them");
        }
        return Path.of(run.root.replaceFirst("^file:", "")).toAbsolutePath();
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isSymbolicLink(p) || !Files.exists(p)) {
            Files.deleteIfExists(p);
            return;
        }
        try (var s = Files.list(p)) {
            for (Path c : s.toList()) {
                deleteTree(c);
            }
        }
        Files.delete(p);
    }

    /** Part 3: HAT's WMT'14 space and search parameters on 16- and 64-executor clusters. */
    private void project(CostModel.Fit fit, double overheadOff, double overheadOn) {
        DesignSpace wmt = DesignSpace.builtin("hat-wmt14");
        List<ArchConfig> sample = Genetics.sampleDistinct(wmt, 1000, seed);
        double perSentence = sample.stream().mapToDouble(c -> Flops.forward(c, wmt.qkvDim, wmtVocab, 1, wmtTokens, wmtTokens))
                .average().orElseThrow();
        double largest = Flops.forward(wmt.largest(), wmt.qkvDim, wmtVocab, 1, wmtTokens, wmtTokens);
        double batches = Math.ceil((double) wmtSentences * wmtTokens / maxTokens);
        CostModel.Workload w = new CostModel.Workload(perSentence * wmtSentences / 1e9, largest * wmtSentences / 1e9, batches);
        System.out.printf("%n== 3. projection: %d budgets, HAT's search (population 125, parents 25, 50 mutations, 50 crossovers,"
                + " 30 generations), space %s%n", budgets, wmt.name);
        System.out.printf("validation: %,d sentences × %d target tokens = %,d tokens, %.0f batches of %d tokens, vocabulary %,d;"
                        + " forward FLOPs per target token: %.1f M mean of %d sampled configs, %.1f M largest%n",
                wmtSentences, wmtTokens, (long) wmtSentences * wmtTokens, batches, maxTokens, wmtVocab,
                perSentence / wmtTokens / 1e6, sample.size(), largest / wmtTokens / 1e6);
        System.out.printf("one full evaluation on one core (fit, demo's ms/GFLOP assumed): %.1f s mean config, %.1f s largest;"
                        + " Spark overhead per generation: racing off %.2f s, on %.2f s%n",
                fit.ms(w.gflopMean(), batches) / 1e3, fit.ms(w.gflopLargest(), batches) / 1e3, overheadOff, overheadOn);
        StringBuilder head = new StringBuilder("| mode | evaluations per job | target tokens | compute core-h |");
        StringBuilder rule = new StringBuilder("|---|---|---|---|");
        for (int e : clusterExecutors) {
            head.append(String.format(" wall h, %d × %d cores: split / one task per evaluation |", e, clusterCores));
            rule.append("---|");
        }
        System.out.println(head);
        System.out.println(rule);
        long tokensPerSet = (long) wmtSentences * wmtTokens;
        for (CostModel.Mode m : CostModel.modes(budgets, 125, 25, 30, lockstepRatio, racingStages, racingReach,
                overheadOff, overheadOn)) {
            CostModel.Row r = CostModel.project(m, fit, w, clusterExecutors, clusterCores);
            String jobs = m.jobs().stream().map(j -> String.format("%,.0f", m.generations() * j.count()))
                    .collect(java.util.stream.Collectors.joining(" + "));
            StringBuilder row = new StringBuilder(String.format("| %s | %s | %,.1f M | %,.0f |", m.name(), jobs,
                    m.targetTokenSets() * tokensPerSet / 1e6, r.computeHours()));
            for (int i = 0; i < clusterExecutors.length; i++) {
                row.append(String.format(" %.2f / %.2f |", r.wallHours()[i], r.wholeWallHours()[i]));
            }
            System.out.println(row);
        }
        System.out.printf("load %s%n", loadavg());
    }

    static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "n/a";
        }
    }
}
