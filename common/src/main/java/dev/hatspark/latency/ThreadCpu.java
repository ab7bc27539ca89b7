package dev.hatspark.latency;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of each thread of this process ({@code /proc/self/task/<tid>/schedstat}, nanoseconds on a
 * CPU), so a measuring run can say which threads besides the timing thread worked while it timed:
 * PyTorch's OpenMP workers (named after the thread that created them), the JVM's GC and compiler
 * threads, Spark's. Empty where there is no {@code /proc}.
 */
public final class ThreadCpu {
    private ThreadCpu() {
    }

    /**
     * One thread's name, CPU nanoseconds and minor page faults so far (-1 where {@code stat} is unreadable): a
     * page fault maps fresh memory, which an allocator that returned freed memory to the system pays again on
     * every allocation, inside the timed runs.
     */
    public record Thread(String name, long cpuNanos, long minorFaults) {
    }

    /** A thread's CPU use and minor page faults between two snapshots. */
    public record Use(long tid, String name, long cpuNanos, long minorFaults) {
    }

    /** Every thread of {@code task} (a {@code /proc/<pid>/task} folder) by tid; empty if unreadable. */
    public static Map<Long, Thread> snapshot(Path task) {
        Map<Long, Thread> out = new HashMap<>();
        try (Stream<Path> tids = Files.list(task)) {
            for (Path t : (Iterable<Path>) tids::iterator) {
                try {
                    long tid = Long.parseLong(t.getFileName().toString());
                    String name = Files.readString(t.resolve("comm")).trim();
                    long ns = Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split("\\s+")[0]);
                    out.put(tid, new Thread(name, ns, minorFaults(t.resolve("stat"))));
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile, or no schedstat: leave it out
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: nothing known
        }
        return out;
    }

    /** Field 10 of a {@code stat} file (minor faults; counted after the parenthesised name), -1 if unreadable. */
    static long minorFaults(Path stat) {
        try {
            String s = Files.readString(stat);
            return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This process's threads now. */
    public static Map<Long, Thread> snapshot() {
        return snapshot(Path.of("/proc/self/task"));
    }

    /** This thread's tid ({@code /proc/thread-self}), or -1 where unknown. */
    public static long currentTid() {
        try {
            return Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** CPU used by each thread between the snapshots (threads born in between count from zero), most first. */
    public static List<Use> used(Map<Long, Thread> before, Map<Long, Thread> after) {
        List<Use> out = new ArrayList<>();
        after.forEach((tid, t) -> {
            Thread b = before.get(tid);
            boolean same = b != null && b.name().equals(t.name());
            long ns = t.cpuNanos() - (same ? b.cpuNanos() : 0);
            long faults = t.minorFaults() < 0 || (same && b.minorFaults() < 0) ? -1 : t.minorFaults() - (same ? b.minorFaults() : 0);
            if (ns > 0) {
                out.add(new Use(tid, t.name(), ns, faults));
            }
        });
        out.sort(Comparator.comparingLong(Use::cpuNanos).reversed().thenComparingLong(Use::tid));
        return out;
    }

    /**
     * One log line: the timing thread's CPU seconds and page faults, the rest of the process's CPU, and its
     * {@code top} busiest other threads, e.g.
     * {@code timing thread 12.1 s CPU in 12.4 s, 310 page faults; other threads 0.3 s: 'C2 CompilerThre' 0.2 s}.
     */
    public static String describe(List<Use> used, long timingTid, double wallSeconds, int top) {
        long mine = used.stream().filter(u -> u.tid() == timingTid).mapToLong(Use::cpuNanos).sum();
        long faults = used.stream().filter(u -> u.tid() == timingTid).mapToLong(Use::minorFaults).sum();
        List<Use> others = used.stream().filter(u -> u.tid() != timingTid).toList();
        long rest = others.stream().mapToLong(Use::cpuNanos).sum();
        StringBuilder s = new StringBuilder(String.format("timing thread %.1f s CPU in %.1f s%s; other threads %.1f s",
                mine / 1e9, wallSeconds, faults < 0 ? "" : String.format(", %,d page faults", faults), rest / 1e9));
        for (int i = 0; i < Math.min(top, others.size()); i++) {
            s.append(i == 0 ? ": " : ", ").append(String.format("'%s' %.1f s", others.get(i).name(), others.get(i).cpuNanos() / 1e9));
        }
        return s.toString();
    }
}
