package dev.hatspark.measure;

import dev.hatspark.util.BadInputException;
import dev.hatspark.latency.Device;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.latency.ProtocolOptions;
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.Measurer;
import dev.hatspark.latency.Schedule;
import dev.hatspark.latency.ScheduleOptions;
import dev.hatspark.model.Torch;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.ConfigSources;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.Progress;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * hat-measure: measure-latency for a device that runs no Spark (a Raspberry Pi, a phone-class
 * board, a laptop). Samples configs of a design space (or reads a list), times each with the same
 * {@link Measurer} as measure-latency's tasks and appends the rows to a CSV of the
 * {@code latency/measurements} columns, which import-latency then files under a hardware id. An
 * interrupted run resumes from its CSV without measuring again what it finished.
 */
@Command(name = "hat-measure", mixinStandardHelpOptions = true, version = "hat-measure 0.1.0",
        description = "Time SubTransformers on this device with HAT's latency protocol into a CSV for import-latency.")
public final class HatMeasure implements Callable<Integer> {

    @Option(names = "--space", description = "Design space: built-in name (demo, hat-wmt14) or YAML file. Default: ${DEFAULT-VALUE}")
    String space = "demo";

    @Option(names = "--configs", description = "Configs to time instead of sampling: a file of one JSON per line,"
            + " a HAT SubTransformer .yml, a folder of .yml (name order) or a config JSON")
    String configs;

    @Option(names = "--samples", description = "Configs to sample. Default: ${DEFAULT-VALUE}")
    int samples = 2000;

    @Option(names = "--seed", description = "Sampling seed (the same seed samples the same configs as measure-latency). Default: ${DEFAULT-VALUE}")
    long seed = 1;

    @Option(names = "--out", description = "CSV to append to (resumed when it exists). Default: hat-latency-<hardware id>.csv")
    Path out;

    @Option(names = "--vocab-size", description = "Output vocabulary of the timed model (the corpus' target vocabulary). Default: ${DEFAULT-VALUE}")
    int vocabSize = 8000;

    @Mixin
    ProtocolOptions protocolOptions = new ProtocolOptions();

    @Option(names = "--threads", description = "PyTorch threads (0 = all cores of this device); part of the hardware id. Default: ${DEFAULT-VALUE}")
    int threads = 0;

    @Option(names = "--chunk", description = "Configs timed together in interleaved passes and appended at once"
            + " (an interruption loses at most one chunk). Default: ${DEFAULT-VALUE}")
    int chunk = 50;

    @Option(names = "--warmup-seconds", description = "JIT and allocator warm-up before the first timing. Default: ${DEFAULT-VALUE}")
    double warmupSeconds = 5;

    /** What a run did; the CLI prints it. */
    public record Result(String file, String hardwareId, int configs, int skipped, int measured, double firstConfigSeconds) {
        @Override
        public String toString() {
            return String.format("%d configs, %d measured, %d already in %s (hardware id %s)%s", configs, measured,
                    skipped, file, hardwareId, firstConfigSeconds < 0 ? ""
                            : String.format(", first config measured %.1f s after start", firstConfigSeconds));
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI; bad input ends with one line naming what was wrong, exit code 1. */
    public static int execute(String... args) {
        // the natives come from this jar: DJL must never download, and must not close resources from finalizers
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        // one inter-op thread, fixed before PyTorch starts (it cannot change afterwards); intra-op is --threads
        System.setProperty("ai.djl.pytorch.num_interop_threads", System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
        System.setProperty("ai.djl.disable_close_resource_on_finalize",
                System.getProperty("ai.djl.disable_close_resource_on_finalize", "true"));
        CommandLine cli = new CommandLine(new HatMeasure()).setOverwrittenOptionsAllowed(true);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException bad) {
                    System.err.println("hat-measure: error: " + bad.getMessage());
                    return 1;
                }
            }
            throw e;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() throws IOException {
        System.out.println("hat-measure done: " + run());
        return 0;
    }

    /** Measures every config not yet in the CSV. */
    public Result run() throws IOException {
        DesignSpace ds = loadSpace(space);
        LatencyProtocol protocol = protocolOptions.protocol();
        int torchThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        ScheduleOptions schedule = protocolOptions.schedule().resolvedFor(torchThreads);
        if (vocabSize < 4) {
            throw new BadInputException("--vocab-size must be at least 4, got " + vocabSize);
        }
        if (chunk < 1) {
            throw new BadInputException("--chunk must be at least 1, got " + chunk);
        }
        List<ArchConfig> todo = configs != null ? readConfigs(configs, ds) : sample(ds);
        Torch.threads(torchThreads, 1);
        Device device = Device.detect();
        Path file = out != null ? out : Path.of("hat-latency-" + device.hardwareId() + ".csv");
        Map<String, Object> expect = new LinkedHashMap<>();
        expect.put("hardware_id", device.hardwareId());
        expect.put("space", ds.name);
        expect.put("vocab_size", vocabSize);
        expect.put("src_len", protocolOptions.srcLen);
        expect.put("beam", protocolOptions.beam);
        expect.put("decoder_steps", protocolOptions.steps);
        expect.put("runs", protocolOptions.runs);
        expect.put("statistic", schedule.labelStatistic());
        try (CsvLog log = CsvLog.open(file, expect)) {
            if (log.tornLineDropped()) {
                System.out.println("hat-measure: dropped the torn last line of " + file + " (an interrupted write)");
            }
            Set<String> done = log.done();
            List<ArchConfig> left = todo.stream().filter(c -> !done.contains(c.hash())).toList();
            int skipped = todo.size() - left.size();
            System.out.printf("hat-measure: %s (%s, %d PyTorch threads, %s clock), space %s: %d configs, %d already in %s%n",
                    device.hardwareId(), device.cpuModel(), device.threads(), schedule.clock().label, ds.name, todo.size(),
                    skipped, file);
            if (left.isEmpty()) {
                return new Result(file.toString(), device.hardwareId(), todo.size(), skipped, 0, -1);
            }
            double ready = sinceStart();
            Measurer measurer = Measurer.of(ds, vocabSize, protocol, warmupSeconds);
            System.out.printf("hat-measure: PyTorch loaded %.1f s after start; model built and warmed up in %.1f s%n", ready,
                    sinceStart() - ready);
            long t0 = System.nanoTime();
            double first = -1;
            String runId = java.util.UUID.randomUUID().toString();
            Double anchor = log.anchorMs(); // a resumed file keeps its first run's reference anchor
            List<Double> errors = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            for (int from = 0; from < left.size(); from += chunk) {
                List<ArchConfig> part = left.subList(from, Math.min(left.size(), from + chunk));
                Schedule.Result r = measurer.measure(part, schedule, seed + from, anchor, t -> { });
                anchor = anchor != null ? anchor : r.summary().anchorMs();
                java.time.Instant now = java.time.Instant.now();
                Map<String, Schedule.Label> byKey = new java.util.HashMap<>();
                r.labels().forEach(l -> byKey.put(l.key(), l));
                for (ArchConfig c : part) {
                    log.append(measurer.row(byKey.get(c.hash()), c, device, runId, now));
                }
                if (first < 0) {
                    first = sinceStart();
                }
                errors.add(r.summary().retestError());
                sizes.add(r.summary().configs());
                int finished = from + part.size();
                double perConfig = (System.nanoTime() - t0) / 1e9 / finished;
                System.out.printf("hat-measure: %d/%d configs, retest error %s, reference drift %s, ETA %s%n",
                        skipped + finished, todo.size(), pct(r.summary().retestError()), pct(r.summary().referenceDrift()),
                        Progress.eta(perConfig * (left.size() - finished)));
            }
            System.out.printf("hat-measure: label retest error %s (relative RMSE between passes of the same configs)%n",
                    pct(Schedule.pooled(errors, sizes)));
            return new Result(file.toString(), device.hardwareId(), todo.size(), skipped, left.size(), first);
        }
    }

    private static String pct(Double v) {
        return v == null ? "-" : String.format("%.2f %%", 100 * v);
    }

    private List<ArchConfig> sample(DesignSpace ds) {
        if (samples < 1) {
            throw new BadInputException("--samples must be at least 1, got " + samples);
        }
        return Genetics.latencySample(ds, samples, seed);
    }

    /** Seconds since this JVM started: start-up, model build and warm-up included. */
    private static double sinceStart() {
        return ProcessHandle.current().info().startInstant()
                .map(s -> Duration.between(s, Instant.now()).toMillis() / 1e3).orElse(-1.0);
    }

    static DesignSpace loadSpace(String nameOrPath) {
        return DesignSpace.resolve(nameOrPath, f -> Files.isRegularFile(Path.of(f)), ConfigSources.local()::readText);
    }

    /** The configs --configs names (see {@link ConfigSources}), each once, checked against the space. */
    static List<ArchConfig> readConfigs(String spec, DesignSpace ds) {
        return new ArrayList<>(new LinkedHashSet<>(ConfigSources.configs(spec, ConfigSources.local(), ds)));
    }
}
