package dev.hatspark.jobs.store;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A job's commits run one after another on a background thread, so writing round k's output overlaps
 * computing round k+1 (a sweep's generation: the Parquet writes took seconds per generation, a large
 * share of a small generation's wall time). Order is kept: a commit starts only after the previous one
 * finished, so a kill leaves the same committed prefix as writing in the foreground would.
 */
public final class BackgroundCommits implements AutoCloseable {
    private final ExecutorService thread;
    private Future<?> last = CompletableFuture.completedFuture(null);

    public BackgroundCommits(String name) {
        thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Waits for the previous commit (rethrowing its failure), then starts {@code commit}; returns the seconds waited. */
    public double then(Runnable commit) {
        double waited = await();
        last = thread.submit(commit);
        return waited;
    }

    /** Waits until every commit so far is done; rethrows a failed commit's exception. Returns the seconds waited. */
    public double await() {
        long start = System.nanoTime();
        try {
            last.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a commit", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Lets a commit in progress finish (its output is written to a temporary location first either way). */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(1, TimeUnit.HOURS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
