package dev.hatspark.util;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeasedCacheTest {
    @Test
    void loadsOncePerKeyEvictsLeastRecentlyUsedAndReleasesOnlyUnusedValues() {
        List<String> released = new ArrayList<>();
        AtomicInteger loads = new AtomicInteger();
        LeasedCache<String, String> cache = new LeasedCache<>(2, released::add);
        try (var a = cache.acquire("a", k -> k + loads.incrementAndGet())) {
            assertEquals("a1", a.get());
        }
        try (var again = cache.acquire("a", k -> k + loads.incrementAndGet())) {
            assertEquals("a1", again.get(), "a cached value is not loaded again");
        }
        var b = cache.acquire("b", k -> k + loads.incrementAndGet());   // held by a "task"
        cache.acquire("a", k -> "never").close();                        // a is now more recent than b
        try (var c = cache.acquire("c", k -> k + loads.incrementAndGet())) {
            assertEquals("c3", c.get());
        }
        assertEquals(2, cache.size());
        assertTrue(released.isEmpty(), "b was evicted but is still leased: not released yet, got " + released);
        b.close();
        assertEquals(List.of("b2"), released, "the last lease of an evicted value releases it");
        b.close();
        assertEquals(1, released.size(), "closing a lease twice releases once");
        try (var a = cache.acquire("a", k -> "reloaded")) {
            assertEquals("a1", a.get(), "a stays cached");
        }
    }
}
