package dev.hatspark.latency;

import java.io.Serializable;

/** How configs are interleaved and labelled (see {@link Schedule}): the protocol's per-run settings beyond one timing. */
public record ScheduleOptions(int passes, int referenceEvery, Schedule.Statistic statistic) implements Serializable {
    public ScheduleOptions {
        Schedule.check(passes, referenceEvery);
    }

    /**
     * The defaults: four passes of {@link #DEFAULT_RUNS} timed runs each, the reference after every 10 configs and
     * the 25th percentile of each pass's runs. Slow spells of seconds hit whole passes here, so several short
     * passes beat two long ones at the same timing cost: between two runs of the same 80 configs on an idle
     * 2-vCPU VM the labels differed by 6.3 % (relative RMSE) against 17.5 % with two passes of 20 runs and the
     * median (README, "Latency you can trust").
     */
    public static final ScheduleOptions DEFAULT = new ScheduleOptions(4, 10, Schedule.Statistic.P25);

    /** Timed runs per config and pass by default: four passes of 10 cost what HAT's 20 runs in two passes did. */
    public static final int DEFAULT_RUNS = 10;

    /** HAT's: every config's runs back to back, no reference, the trimmed mean. */
    public static final ScheduleOptions HAT = new ScheduleOptions(1, 0, Schedule.Statistic.TRIMMED_MEAN);
}
