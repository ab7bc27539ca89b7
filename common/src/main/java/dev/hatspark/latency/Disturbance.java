package dev.hatspark.latency;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What may have disturbed one timing, recorded next to it: the share of CPU time stolen by the
 * hypervisor while it ran ({@code /proc/stat}), the 1-minute load average ({@code /proc/loadavg})
 * and whether another timing ran in this JVM at the same time. Values that cannot be read (no
 * {@code /proc}: macOS, some containers) are null, never an error.
 */
public record Disturbance(Double cpuSteal, Double loadAvg, boolean concurrent) implements Serializable {

    public static final Disturbance NONE = new Disturbance(null, null, false);

    /** The aggregate CPU line's steal and total jiffies. */
    public record CpuTimes(long steal, long total) {
    }

    /** The "cpu " line of {@code proc/stat} (fields user nice system idle iowait irq softirq steal ...); null if unreadable. */
    public static CpuTimes cpuTimes(Path proc) {
        try {
            for (String l : Files.readAllLines(proc.resolve("stat"))) {
                if (l.startsWith("cpu ")) {
                    String[] f = l.trim().split("\\s+");
                    long total = 0;
                    for (int i = 1; i < f.length && i <= 8; i++) { // guest time is already in user
                        total += Long.parseLong(f[i]);
                    }
                    return new CpuTimes(f.length > 8 ? Long.parseLong(f[8]) : 0, total);
                }
            }
        } catch (IOException | RuntimeException e) {
            // absent or unfamiliar: unknown
        }
        return null;
    }

    /** The 1-minute load average of {@code proc/loadavg}; null if unreadable. */
    public static Double loadAvg(Path proc) {
        try {
            return Double.parseDouble(Files.readString(proc.resolve("loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Stolen share of CPU time between two readings; null when either is unknown or no time passed. */
    public static Double steal(CpuTimes before, CpuTimes after) {
        if (before == null || after == null || after.total() <= before.total()) {
            return null;
        }
        return (after.steal() - before.steal()) / (double) (after.total() - before.total());
    }
}
