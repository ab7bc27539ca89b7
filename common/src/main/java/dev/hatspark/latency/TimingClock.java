package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * What a timed run's duration is read from. {@code cpu}: the timing thread's own CPU time, which leaves out the
 * time it waited for a core (preempted by other processes, stopped for a garbage collection); valid only when
 * PyTorch runs every op on that thread (one intra-op thread). {@code wall}: elapsed time. {@code auto}: cpu when
 * PyTorch has one intra-op thread and the JVM can read thread CPU time, else wall.
 */
public enum TimingClock {
    AUTO, WALL, CPU;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    public final String label = name().toLowerCase(java.util.Locale.ROOT);

    public static TimingClock parse(String s) {
        for (TimingClock c : values()) {
            if (c.label.equals(s)) {
                return c;
            }
        }
        throw new BadInputException("--clock must be auto, wall or cpu, got '" + s + "'");
    }

    /** The clock a timing with {@code intraOpThreads} PyTorch threads uses; cpu with several threads is an error. */
    public TimingClock resolve(int intraOpThreads) {
        boolean cpuTime = THREADS.isCurrentThreadCpuTimeSupported();
        return switch (this) {
            case WALL -> WALL;
            case AUTO -> intraOpThreads == 1 && cpuTime ? CPU : WALL;
            case CPU -> {
                if (intraOpThreads != 1) {
                    throw new BadInputException("--clock cpu reads the timing thread's CPU time, which misses work on other"
                            + " threads: it needs --threads 1, got " + intraOpThreads + " PyTorch threads");
                }
                if (!cpuTime) {
                    throw new BadInputException("--clock cpu: this JVM cannot read a thread's CPU time; use --clock wall");
                }
                yield CPU;
            }
        };
    }

    /** Nanoseconds on this clock (differences only); AUTO must be resolved first. */
    public long nanos() {
        return switch (this) {
            case WALL -> System.nanoTime();
            case CPU -> THREADS.getCurrentThreadCpuTime();
            case AUTO -> throw new IllegalStateException("resolve the auto clock before timing");
        };
    }
}
