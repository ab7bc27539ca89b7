package dev.hatspark.latency;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ThreadCpuTest {

    private static void thread(Path task, long tid, String name, long ns, long faults) throws Exception {
        Path t = Files.createDirectories(task.resolve(Long.toString(tid)));
        Files.writeString(t.resolve("comm"), name + "\n");
        Files.writeString(t.resolve("schedstat"), ns + " 12345 67\n");
        // a name with a space and a parenthesis, as thread names may have: fields count from the last ')'
        Files.writeString(t.resolve("stat"), tid + " (" + name + " (x)) S 1 1 1 0 -1 4194560 " + faults + " 0 3 0 17 4 0 0\n");
    }

    @Test
    void usedCountsNewThreadsFromZeroAndRanksByCpu(@TempDir Path task) throws Exception {
        thread(task, 10, "main", 1_000, 100);
        thread(task, 11, "GC Thread#0", 500, 7);
        Map<Long, ThreadCpu.Thread> before = ThreadCpu.snapshot(task);
        thread(task, 10, "main", 5_000, 160);
        thread(task, 11, "GC Thread#0", 500, 7);        // idle meanwhile: left out
        thread(task, 12, "Executor task l", 2_500, 30);  // born meanwhile
        Files.createDirectories(task.resolve("13"));  // ended while listed: no comm, skipped
        List<ThreadCpu.Use> used = ThreadCpu.used(before, ThreadCpu.snapshot(task));
        assertEquals(List.of(new ThreadCpu.Use(10, "main", 4_000, 60), new ThreadCpu.Use(12, "Executor task l", 2_500, 30)), used);
    }

    @Test
    void describeSplitsTheTimingThreadFromTheRest() {
        List<ThreadCpu.Use> used = List.of(new ThreadCpu.Use(7, "java", 3_000_000_000L, 5),
                new ThreadCpu.Use(8, "java", 2_000_000_000L, 31_200), new ThreadCpu.Use(9, "C2 CompilerThre", 100_000_000L, 0));
        assertEquals("timing thread 2.0 s CPU in 4.0 s, 31,200 page faults; other threads 3.1 s: 'java' 3.0 s, 'C2 CompilerThre' 0.1 s",
                ThreadCpu.describe(used, 8, 4.0, 2));
        assertEquals("timing thread 2.0 s CPU in 4.0 s; other threads 3.1 s",
                ThreadCpu.describe(List.of(new ThreadCpu.Use(7, "java", 3_100_000_000L, 5), new ThreadCpu.Use(8, "java", 2_000_000_000L, -1)),
                        8, 4.0, 0), "no page-fault count where stat was unreadable");
    }

    @Test
    void seesAnotherThreadOfThisProcessWork() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc here");
        Map<Long, ThreadCpu.Thread> before = ThreadCpu.snapshot();
        CountDownLatch spun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread spinner = new Thread(() -> {
            long end = System.nanoTime() + 300_000_000L;
            double x = 0;
            while (System.nanoTime() < end) {
                x += Math.sqrt(x + 1);
            }
            spun.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (x < 0) {
                System.out.println(x);
            }
        }, "spin-test");
        spinner.start();
        spun.await();
        List<ThreadCpu.Use> used = ThreadCpu.used(before, ThreadCpu.snapshot());
        release.countDown();
        spinner.join();
        long me = ThreadCpu.currentTid();
        assertTrue(me > 0);
        long spin = used.stream().filter(u -> u.name().equals("spin-test")).mapToLong(ThreadCpu.Use::cpuNanos).sum();
        long mine = used.stream().filter(u -> u.tid() == me).mapToLong(ThreadCpu.Use::cpuNanos).sum();
        // the spinner's 300 ms of work is its own, not the waiting test thread's (a core may be shared, so a margin)
        assertTrue(spin >= 100_000_000L && mine < spin, used.toString());
        assertTrue(used.stream().allMatch(u -> u.minorFaults() >= 0), "every thread's page faults read: " + used);
    }
}
