package dev.hatspark.latency;

import picocli.CommandLine.Option;

/**
 * The timing protocol's command-line options, one declaration for measure-latency (on Spark) and hat-measure (on a
 * device), so both time with the same defaults: HAT's batch 1, 30 source tokens, beam 5, 30 decoder steps.
 */
public final class ProtocolOptions {
    @Option(names = "--src-len", description = "Default: ${DEFAULT-VALUE}")
    public int srcLen = 30;

    @Option(names = "--beam", description = "Default: ${DEFAULT-VALUE}")
    public int beam = 5;

    @Option(names = "--decoder-steps", description = "Default: ${DEFAULT-VALUE}")
    public int steps = 30;

    @Option(names = "--warmup", description = "Untimed runs per config. Default: ${DEFAULT-VALUE}")
    public int warmup = 5;

    @Option(names = "--runs", description = "Timed runs per config. Default: ${DEFAULT-VALUE}")
    public int runs = 20;

    @Option(names = "--trim", description = "Share of fastest and of slowest runs dropped. Default: ${DEFAULT-VALUE}")
    public double trim = 0.1;

    public LatencyProtocol protocol() {
        return new LatencyProtocol(srcLen, beam, steps, warmup, runs, trim);
    }
}
