package dev.hatspark.latency;

import ai.djl.ndarray.NDManager;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Times configs of one design space on this machine and returns measurement rows: the one timing
 * path of measure-latency's Spark tasks and of hat-measure on an edge device. The timed model has
 * random weights (latency does not depend on their values) and is built and warmed once per JVM.
 */
public final class Measurer {
    private static final Map<String, SuperTransformer> MODELS = new ConcurrentHashMap<>();
    private static final NDManager ROOT = NDManager.newBaseManager();

    private final DesignSpace space;
    private final int vocab;
    private final LatencyProtocol protocol;
    private final SuperTransformer model;

    private Measurer(DesignSpace space, int vocab, LatencyProtocol protocol, SuperTransformer model) {
        this.space = space;
        this.vocab = vocab;
        this.protocol = protocol;
        this.model = model;
    }

    /**
     * The measurer of a space; the first call in a JVM builds the model and runs the largest and
     * smallest configs for at least {@code warmupSeconds}, or the first configs of a fresh JVM would
     * time slower than the rest (JIT, PyTorch's allocator).
     */
    /** Seconds of untimed warm-up of a fresh JVM before its first timing ({@code -Dhat.latency.warmupSeconds}). */
    public static final double WARMUP_SECONDS = Double.parseDouble(System.getProperty("hat.latency.warmupSeconds", "5"));

    public static Measurer of(DesignSpace space, int vocab, LatencyProtocol protocol, double warmupSeconds) {
        SuperTransformer model = MODELS.computeIfAbsent(space.yaml().hashCode() + ":" + vocab, k -> {
            SuperTransformer m = SuperTransformer.create(space, vocab, vocab, 0, ROOT);
            warm(m, protocol, warmupSeconds);
            return m;
        });
        return new Measurer(space, vocab, protocol, model);
    }

    /** Times the largest and smallest configs of {@code m}'s space for at least {@code seconds} (3 runs at least). */
    public static void warm(SuperTransformer m, LatencyProtocol protocol, double seconds) {
        DesignSpace ds = m.space();
        long until = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < 3 || System.nanoTime() < until; i++) {
            protocol.measure(m, i % 2 == 0 ? ds.largest() : ds.smallest(), i);
        }
    }

    /** Times one config with the protocol (source tokens seeded by its hash) on {@code device}. */
    public Measurement measure(ArchConfig c, Device device) {
        LatencyProtocol.Timing t = protocol.measure(model, c, c.hash().hashCode());
        return Measurement.timed(device, space.name, vocab, c, protocol, t, Instant.now());
    }
}
