package dev.hatspark.latency;

import java.io.Serializable;

/** How configs are interleaved and labelled (see {@link Schedule}): the protocol's per-run settings beyond one timing. */
public record ScheduleOptions(int passes, int referenceEvery, Schedule.Statistic statistic) implements Serializable {
    public ScheduleOptions {
        Schedule.check(passes, referenceEvery);
    }

    /**
     * The defaults: two passes (a config's label then spans two moments of the run), the reference
     * after every 10 configs (10 % more timing) and the median of each pass's runs.
     */
    public static final ScheduleOptions DEFAULT = new ScheduleOptions(2, 10, Schedule.Statistic.MEDIAN);

    /** HAT's: every config's runs back to back, no reference, the trimmed mean. */
    public static final ScheduleOptions HAT = new ScheduleOptions(1, 0, Schedule.Statistic.TRIMMED_MEAN);
}
