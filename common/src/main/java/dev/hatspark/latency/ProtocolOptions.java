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

    @Option(names = "--runs", description = "Timed runs per config. Default: ${DEFAULT-VALUE}")
    public int runs = LatencyProtocol.HAT.runs();

    @Option(names = "--trim", description = "Share of fastest and of slowest runs dropped. Default: ${DEFAULT-VALUE}")
    public double trim = LatencyProtocol.HAT.trim();

    public LatencyProtocol protocol() {
        return new LatencyProtocol(srcLen, beam, steps, warmup, runs, trim);
    }
}
