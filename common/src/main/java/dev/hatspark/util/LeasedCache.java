package dev.hatspark.util;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A small least-recently-used cache of expensive values (a loaded SuperTransformer per executor JVM),
 * keyed by content id. Values are used through leases: an entry evicted while a task still holds it
 * is released (closed) when the last lease ends, never under a running task.
 */
public final class LeasedCache<K, V> {
    private final int capacity;
    private final Consumer<V> release;
    private final Map<K, Entry<V>> entries = new LinkedHashMap<>(16, 0.75f, true);

    private static final class Entry<V> {
        final V value;
        int leases;
        boolean evicted;

        Entry(V value) {
            this.value = value;
        }
    }

    /** A value in use; closing the lease lets the cache release an evicted value. */
    public final class Lease implements AutoCloseable {
        private final Entry<V> entry;
        private boolean closed;

        private Lease(Entry<V> entry) {
            this.entry = entry;
        }

        public V get() {
            return entry.value;
        }

        @Override
        public void close() {
            synchronized (LeasedCache.this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (--entry.leases == 0 && entry.evicted) {
                    release.accept(entry.value);
                }
            }
        }
    }

    public LeasedCache(int capacity, Consumer<V> release) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.release = release;
    }

    /** The value of {@code key}, loaded (under the cache's lock, so once) when absent. */
    public synchronized Lease acquire(K key, Function<K, V> load) {
        Entry<V> e = entries.get(key);
        if (e == null) {
            e = new Entry<>(load.apply(key));
            entries.put(key, e);
            evictBeyondCapacity();
        }
        e.leases++;
        return new Lease(e);
    }

    public synchronized int size() {
        return entries.size();
    }

    private void evictBeyondCapacity() {
        Iterator<Entry<V>> it = entries.values().iterator();
        while (entries.size() > capacity && it.hasNext()) {
            Entry<V> oldest = it.next();
            it.remove();
            oldest.evicted = true;
            if (oldest.leases == 0) {
                release.accept(oldest.value);
            }
        }
    }
}
