package dev.hatspark.jobs.cli;

import dev.hatspark.jobs.analysis.Report;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.subnet.Evaluate;
import dev.hatspark.jobs.subnet.TrainSubnet;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.supernet.TrainSupernet;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;


import java.util.LinkedHashMap;
import java.util.Map;

/** demo: every stage on the bundled corpus and the demo space, each printing its wall time. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the pipeline end to end on the bundled Bible corpus and the demo design space.")
public final class Demo implements Job<Map<String, Double>> {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--steps", description = "SuperTransformer updates. Default: ${DEFAULT-VALUE}")
    public long steps = 300;

    @Option(names = "--latency-samples", description = "Configs timed for the latency predictor. Default: ${DEFAULT-VALUE}")
    public int latencySamples = 160;

    @Option(names = "--subnet-steps", description = "Fine-tuning updates of each winner and the baseline. Default: ${DEFAULT-VALUE}")
    public long subnetSteps = 40;

    @Option(names = "--test-sentences", description = "Test sentences translated per winner for BLEU. Default: ${DEFAULT-VALUE}")
    public int testSentences = 100;

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public Map<String, Double> run(SparkSession spark) throws Exception {
        Map<String, Double> seconds = new LinkedHashMap<>();
        PrepareCorpus prepare = new PrepareCorpus();
        prepare.run = run;
        stage(spark, prepare, seconds);

        TrainSupernet train = new TrainSupernet();
        train.run = run;
        train.recipe.steps = steps;
        train.recipe.warmup = (int) Math.min(train.recipe.warmup, Math.max(1, steps / 4));
        train.recipe.validEvery = (int) Math.max(1, steps / 4);
        train.recipe.checkpointEvery = train.recipe.validEvery;
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
        measure.protocolOptions.runs = 5; // per pass, each paired with a reference run: two passes (the default)
        measure.parallel = 1; // this machine's 2 vCPUs disturb each other's timings (README, measure-latency)
        stage(spark, measure, seconds);

        FitPredictor fit = new FitPredictor();
        fit.run = run;
        fit.hardwareId = Hardware.localId(spark);
        stage(spark, fit, seconds);

        Sweep sweep = new Sweep();
        sweep.run = run;
        sweep.hardwareId = fit.hardwareId;
        sweep.budgetPercentiles = new double[] {20, 50, 90}; // across the space's predicted latency range
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
        winners.recipe.lr = train.recipe.lr;
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

    private static void stage(SparkSession spark, Job<?> job, Map<String, Double> seconds) throws Exception {
        long t0 = System.nanoTime();
        job.run(spark);
        double s = (System.nanoTime() - t0) / 1e9;
        seconds.put(job.name(), s);
        LOG.info("stage {} done in {} s", job.name(), String.format("%.1f", s));
    }
}
