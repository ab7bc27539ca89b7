package dev.hatspark.jobs.corpus;

import dev.hatspark.corpus.Bpe;
import dev.hatspark.util.Ids;
import dev.hatspark.util.LeasedCache;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Serialized BPE vocabularies, and one parsed copy per executor JVM (its encode cache is shared by all tasks). */
public final class BpeCache {
    // keyed by a content hash (a 32-bit hash of the bytes could mix up two vocabularies); a few at most
    private static final LeasedCache<String, Bpe> PARSED = new LeasedCache<>(4, bpe -> { });

    private BpeCache() {
    }

    public static byte[] bytes(Bpe bpe) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            bpe.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The vocabulary of {@code data}, parsed once per JVM. */
    public static Bpe get(byte[] data) {
        try (var lease = PARSED.acquire(Ids.sha(data), k -> parse(data))) {
            return lease.get(); // nothing to close: an evicted Bpe is simply garbage
        }
    }

    private static Bpe parse(byte[] data) {
        try {
            return Bpe.read(new ByteArrayInputStream(data));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
