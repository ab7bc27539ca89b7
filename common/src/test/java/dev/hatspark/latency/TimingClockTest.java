package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimingClockTest {
    @Test
    void cpuTimeLeavesOutWaitingAndCountsWork() throws InterruptedException {
        long w0 = TimingClock.WALL.nanos(), c0 = TimingClock.CPU.nanos();
        Thread.sleep(200); // the thread waits, as it does when preempted
        long w1 = TimingClock.WALL.nanos(), c1 = TimingClock.CPU.nanos();
        assertTrue(w1 - w0 >= 200_000_000L, "wall " + (w1 - w0));
        assertTrue(c1 - c0 < 50_000_000L, "cpu while sleeping " + (c1 - c0));

        double x = 0;
        long busyFrom = TimingClock.CPU.nanos(), wallFrom = TimingClock.WALL.nanos();
        while (TimingClock.CPU.nanos() - busyFrom < 30_000_000L) { // 30 ms of the thread's own work
            x += Math.sqrt(x + 1);
        }
        long wall = TimingClock.WALL.nanos() - wallFrom;
        assertTrue(wall >= 29_000_000L && x > 0, "30 ms of CPU time take at least as long on the wall clock: " + wall);
    }

    @Test
    void autoReadsCpuTimeOnlyWhenPyTorchRunsOnTheTimingThread() {
        assertEquals(TimingClock.CPU, TimingClock.AUTO.resolve(1));
        assertEquals(TimingClock.WALL, TimingClock.AUTO.resolve(4));
        assertEquals(TimingClock.WALL, TimingClock.WALL.resolve(1));
        var e = assertThrows(BadInputException.class, () -> TimingClock.CPU.resolve(4));
        assertTrue(e.getMessage().contains("needs --threads 1, got 4") && !e.getMessage().contains("\n"), e.getMessage());
        assertEquals(TimingClock.CPU, TimingClock.parse("cpu"));
        assertThrows(IllegalStateException.class, TimingClock.AUTO::nanos);
        assertEquals("wall", ScheduleOptions.HAT.clock().label, "HAT's protocol times elapsed time");
    }
}
