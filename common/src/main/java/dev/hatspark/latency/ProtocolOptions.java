package dev.hatspark.latency;

import picocli.CommandLine.Option;

/**
 * The timing protocol's command-line options, one declaration for measure-latency (on Spark) and hat-measure (on a
 * device), so both time with the same defaults: HAT's batch 1, 30 source tokens, beam 5, 30 decoder steps.
 */
public final class ProtocolOptions {
    @Option(names = "--src-len", description = "Default: ${DEFAULT-VALUE}")
    public int srcLen = LatencyProtocol.HAT.srcLen();

    @Option(names = "--beam", description = "Default: ${DEFAULT-VALUE}")
    public int beam = LatencyProtocol.HAT.beam();

    @Option(names = "--decoder-steps", description = "Default: ${DEFAULT-VALUE}")
    public int steps = LatencyProtocol.HAT.steps();

    @Option(names = "--warmup", description = "Untimed runs per config. Default: ${DEFAULT-VALUE}")
    public int warmup = LatencyProtocol.HAT.warmup();

    @Option(names = "--runs", description = "Timed runs per config and pass (HAT's protocol: 20 in one pass)."
            + " Default: ${DEFAULT-VALUE}")
    public int runs = ScheduleOptions.DEFAULT_RUNS;

    @Option(names = "--trim", description = "Share of fastest and of slowest runs dropped. Default: ${DEFAULT-VALUE}")
    public double trim = LatencyProtocol.HAT.trim();

    @Option(names = "--passes", description = "Interleaved passes over the configs; a config's label is the median of its"
            + " passes. Default: ${DEFAULT-VALUE}")
    public int passes = ScheduleOptions.DEFAULT.passes();

    @Option(names = "--reference-every", description = "Time the reference config (the space's median-size one) after"
            + " every N configs; 0: no reference. Default: ${DEFAULT-VALUE}")
    public int referenceEvery = ScheduleOptions.DEFAULT.referenceEvery();

    @Option(names = "--statistic", description = "Statistic of a pass's timed runs: median, p25 or trimmed-mean (HAT's)."
            + " Default: ${DEFAULT-VALUE}")
    public String statistic = ScheduleOptions.DEFAULT.statistic().label;

    @Option(names = "--paired", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Time each run of a config right after a run of the reference and label it from their ratios"
            + " (--no-paired: the config's runs back to back, normalized by the nearest reference timings). Default: ${DEFAULT-VALUE}")
    public boolean paired = ScheduleOptions.DEFAULT.paired();

    @Option(names = "--clock", description = "What a timed run's duration is read from: cpu (the timing thread's CPU time:"
            + " time spent waiting for a core, preempted or stopped for a garbage collection, is left out; needs one PyTorch"
            + " thread), wall (elapsed time) or auto (cpu with one PyTorch thread, else wall). Default: ${DEFAULT-VALUE}")
    public String clock = ScheduleOptions.DEFAULT.clock().label;

    public ScheduleOptions schedule() {
        return new ScheduleOptions(passes, referenceEvery, Schedule.Statistic.parse(statistic), paired, TimingClock.parse(clock));
    }

    public LatencyProtocol protocol() {
        return new LatencyProtocol(srcLen, beam, steps, warmup, runs, trim);
    }
}
