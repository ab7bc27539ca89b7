package dev.hatspark.jobs.bench;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.hatspark.model.Torch;
import dev.hatspark.model.Batch;
import dev.hatspark.model.Batches;
import dev.hatspark.latency.Schedule;
import dev.hatspark.model.Flops;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * bench-eval (a benchmark, not a test): validation-loss evaluation throughput of the largest and
 * smallest SubTransformer (tokens/s, GFLOP/s) next to this machine's DJL dense-matmul GFLOP/s, and the
 * process's resident memory.
 */
@Command(name = "bench-eval", mixinStandardHelpOptions = true,
        description = "Benchmark: evaluation throughput vs DJL matmul GFLOP/s on this machine (needs a trained run root).")
public final class EvalBenchmark implements Job<String> {
    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--repeats", description = "Timed passes over the validation set. Default: ${DEFAULT-VALUE}")
    public int repeats = 5;

    @Option(names = "--max-tokens", description = "Default: ${DEFAULT-VALUE}")
    public int maxTokens = 4096;

    @Option(names = "--threads", split = ",", description = "PyTorch thread counts to measure at, comma-separated"
            + " (0 = all cores). Default: a sweep's executor task's (spark.task.cpus), then all cores.")
    public int[] threads;

    @Override
    public String name() {
        return "bench-eval";
    }

    @Override
    public String run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = Checkpoints.latestOf(fs, layout);
        int cores = Runtime.getRuntime().availableProcessors();
        int taskCpus = Hardware.taskCpus();
        int[] counts = IntStream.of(threads != null ? threads : new int[] {taskCpus, cores})
                .map(t -> t > 0 ? t : cores).distinct().toArray();
        List<int[][]> valid = Corpus.validation(spark, layout, 0).pairs();
        StringBuilder out = new StringBuilder();
        try (NDManager root = NDManager.newBaseManager()) {
            SuperTransformer model = Checkpoints.loadModel(fs, ckpt, root);
            List<Batch> batches = Batches.byTokens(valid, maxTokens);
            SubnetEvaluator ev = new SubnetEvaluator(model, batches);
            for (int n : counts) {
                Torch.threads(n, 0);
                out.append(String.format("%d PyTorch thread(s)%s: DJL matmul 512x512 %.1f GFLOP/s%n", n,
                        n == taskCpus ? ", as a sweep's executor task runs (spark.task.cpus)" : "",
                        matmulGflops(root, 512)));
                for (ArchConfig c : List.of(model.space().largest(), model.space().smallest())) {
                    out.append(timed(ev, batches, c, root, c.equals(model.space().largest()) ? "largest " : "smallest"));
                }
            }
        }
        out.append(String.format("resident memory (VmRSS): %s, JVM heap used %d MiB%n", rss(),
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20));
        System.out.print(out);
        return "see above";
    }

    private String timed(SubnetEvaluator ev, List<Batch> batches, ArchConfig c, NDManager root, String label) {
        SuperTransformer model = ev.model();
        ev.validLoss(c); // warm-up
        // each pass right after a matmul timing: this VM's CPUs change speed by up to 2x for seconds,
        // so a ratio to a matmul timed once at the start measured the machine's mood, not the model
        double flops = Flops.forward(c, model.space().qkvDim, model.tgtVocab(), batches);
        double[] seconds = new double[repeats];
        double[] share = new double[repeats];
        double loss = 0;
        for (int i = 0; i < repeats; i++) {
            double mm = matmulGflops(root, 512);
            long t0 = System.nanoTime();
            loss = ev.validLoss(c);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            share[i] = flops / seconds[i] / 1e9 / mm;
        }
        double s = Schedule.median(seconds);
        return String.format("  %s: loss %.4f, %.0f tokens/s, %.1f GFLOP/s = %.0f %% of matmul (median of %d passes,"
                        + " each against a matmul timed just before it), %.2f s per pass%n",
                label, loss, ev.tokens() / s, flops / s / 1e9, 100 * Schedule.median(share), repeats, s);
    }

    static double matmulGflops(NDManager m, int n) {
        try (NDArray a = m.randomUniform(0, 1, new Shape(n, n));
             NDArray b = m.randomUniform(0, 1, new Shape(n, n))) {
            for (int i = 0; i < 20; i++) {
                a.matMul(b).close();
            }
            int reps = 200;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                a.matMul(b).close();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            return 2.0 * n * n * n * reps / s / 1e9;
        }
    }

    static String rss() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
                    .map(l -> l.substring(6).trim()).findFirst().orElse("n/a");
        } catch (Exception e) {
            return "n/a";
        }
    }
}
