package dev.hatspark.jobs;

import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;

import java.util.LinkedHashMap;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.Map;

/** demo: every stage on the bundled corpus and the demo space, each printing its wall time. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the pipeline end to end on the bundled Bible corpus and the demo design space.")
public final class Demo implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--steps", description = "SuperTransformer updates. Default: ${DEFAULT-VALUE}")
    long steps = 300;

    @Option(names = "--latency-samples", description = "Configs timed for the latency predictor. Default: ${DEFAULT-VALUE}")
    int latencySamples = 160;

    @Option(names = "--subnet-steps", description = "Fine-tuning updates of each winner and the baseline. Default: ${DEFAULT-VALUE}")
    long subnetSteps = 40;

    @Option(names = "--test-sentences", description = "Test sentences translated per winner for BLEU. Default: ${DEFAULT-VALUE}")
    int testSentences = 100;

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public Object run(SparkSession spark) throws Exception {
        Map<String, Double> seconds = new LinkedHashMap<>();
        PrepareCorpus prepare = new PrepareCorpus();
        prepare.run = run;
        stage(spark, prepare, seconds);

        TrainSupernet train = new TrainSupernet();
        train.run = run;
        train.steps = steps;
        train.warmup = (int) Math.min(train.warmup, Math.max(1, steps / 4));
        train.validEvery = (int) Math.max(1, steps / 4);
        train.checkpointEvery = train.validEvery;
        stage(spark, train, seconds);

        EvalSubnet eval = new EvalSubnet();
        eval.run = run;
        eval.largest = true;
        eval.smallest = true;
        eval.sample = 4;
        stage(spark, eval, seconds);

        MeasureLatency measure = new MeasureLatency();
        measure.run = run;
        measure.samples = latencySamples;
        measure.protocolOptions.warmup = 2;
        measure.protocolOptions.runs = 10;
        measure.parallel = 1; // this machine's 2 vCPUs disturb each other's timings (README, measure-latency)
        stage(spark, measure, seconds);

        FitPredictor fit = new FitPredictor();
        fit.run = run;
        fit.hardwareId = Hardware.localId(spark);
        stage(spark, fit, seconds);

        Sweep sweep = new Sweep();
        sweep.run = run;
        sweep.hardwareId = fit.hardwareId;
        sweep.budgets = spreadBudgets(spark, run.layout(), fit.hardwareId);
        sweep.sweepId = "demo";
        sweep.population = 16;
        sweep.parents = 4;
        sweep.mutations = 6;
        sweep.crossovers = 6;
        sweep.generations = 5;
        sweep.validSentences = 160;
        stage(spark, sweep, seconds);

        // each budget's winner and the baseline (the space's largest config), fine-tuned briefly from
        // inherited weights, then BLEU on test sentences and measured vs predicted latency
        TrainSubnet winners = new TrainSubnet();
        winners.run = run;
        winners.targets.sweepId = sweep.sweepId;
        winners.targets.largest = true;
        winners.recipe.steps = subnetSteps;
        winners.recipe.warmup = (int) Math.max(1, subnetSteps / 4);
        winners.recipe.lr = train.lr / 2; // fine-tuning the largest config at the supernet's peak diverged (NaN)
        winners.recipe.validEvery = (int) Math.max(1, subnetSteps / 2);
        winners.recipe.checkpointEvery = winners.recipe.validEvery;
        winners.recipe.validSentences = sweep.validSentences;
        stage(spark, winners, seconds);

        Evaluate evaluate = new Evaluate();
        evaluate.run = run;
        evaluate.targets = winners.targets;
        evaluate.maxSentences = testSentences;
        evaluate.latencyWarmup = measure.protocolOptions.warmup;
        evaluate.latencyRuns = measure.protocolOptions.runs;
        stage(spark, evaluate, seconds);

        Report report = new Report(); // <root>/report/index.html
        report.run = run;
        stage(spark, report, seconds);

        StringBuilder b = new StringBuilder("demo finished; outputs under " + run.root + "\n");
        seconds.forEach((k, v) -> b.append(String.format("  %-16s %7.1f s%n", k, v)));
        LOG.info(b.toString().trim());
        return seconds;
    }

    /** Three budgets across the space's predicted latency range: its 20th, 50th and 90th percentiles. */
    static double[] spreadBudgets(SparkSession spark, Layout layout, String hardwareId) {
        LatencyPredictor p = LatencyPredictor.load(spark, layout, hardwareId);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        String ckpt = Checkpoints.latestOf(fs, layout);
        DesignSpace space = Checkpoints.readState(fs, ckpt).space(ckpt);
        SplittableRandom rng = new SplittableRandom(11);
        double[] ms = IntStream.range(0, 500).mapToDouble(i -> p.predictMs(Genetics.sample(space, rng))).sorted().toArray();
        return new double[] {Math.round(ms[100]), Math.round(ms[250]), Math.round(ms[450])};
    }

    private static void stage(SparkSession spark, Job job, Map<String, Double> seconds) throws Exception {
        long t0 = System.nanoTime();
        job.run(spark);
        double s = (System.nanoTime() - t0) / 1e9;
        seconds.put(job.name(), s);
        LOG.info("stage {} done in {} s", job.name(), String.format("%.1f", s));
    }
}
