package dev.hatspark.latency;

import java.io.Serializable;

/**
 * How configs are interleaved and labelled (see {@link Schedule}): the protocol's per-run settings beyond one
 * timing. {@code paired}: each timed run of a config right after a run of the reference, the label from their
 * ratios ({@link LatencyProtocol#measurePaired}). {@code clock}: what a run's duration is read from ({@link TimingClock}).
 */
public record ScheduleOptions(int passes, int referenceEvery, Schedule.Statistic statistic, boolean paired, TimingClock clock)
        implements Serializable {
    public ScheduleOptions {
        Schedule.check(passes, referenceEvery);
    }

    /**
     * The defaults: two passes of {@link #DEFAULT_RUNS} runs, each run paired with a run of the reference, the
     * reference's own timing after every 10 configs, the 25th percentile for the reference and the raw columns.
     * On this 2-vCPU VM a virtual CPU's speed changes by up to 2× for seconds at a time (a neighbour on the host),
     * which no statistic over one config's back-to-back runs removes; a reference run just before each run does:
     * between passes of the same 20 configs the labels differed by 1.4 % (relative RMSE) paired, 8–9 % not
     * (README, "Latency you can trust").
     */
    public static final ScheduleOptions DEFAULT = new ScheduleOptions(2, 10, Schedule.Statistic.P25, true, TimingClock.AUTO);

    /** Timed runs per config and pass by default; paired, each comes with a reference run, so two passes of 10 cost what four unpaired passes did. */
    public static final int DEFAULT_RUNS = 10;

    /** The statistic column of the labels this schedule writes. */
    public String labelStatistic() {
        return paired ? Schedule.PAIRED_MEDIAN : statistic.label;
    }

    /** These options with the clock resolved for timings with {@code intraOpThreads} PyTorch threads. */
    public ScheduleOptions resolvedFor(int intraOpThreads) {
        return new ScheduleOptions(passes, referenceEvery, statistic, paired, clock.resolve(intraOpThreads));
    }

    /** HAT's: every config's runs back to back, no reference, the trimmed mean, elapsed time. */
    public static final ScheduleOptions HAT = new ScheduleOptions(1, 0, Schedule.Statistic.TRIMMED_MEAN, false, TimingClock.WALL);
}
