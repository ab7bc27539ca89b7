package dev.hatspark.latency;

import ai.djl.ndarray.NDManager;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Times configs of one design space on this machine and returns measurement rows: the one timing
 * path of measure-latency's Spark tasks and of hat-measure on an edge device. The timed model has
 * random weights (latency does not depend on their values) and is built and warmed once per JVM.
 */
public final class Measurer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Measurer.class);
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
            LAST_TIMING.set(System.nanoTime());
            return m;
        });
        Measurer measurer = new Measurer(space, vocab, protocol, model);
        if (System.nanoTime() - LAST_TIMING.get() > IDLE_BEFORE_REWARM_NANOS) {
            // other work ran in this JVM since its last timing (the demo trains four models before evaluate
            // times them): allocator and caches are no longer in timing shape, so warm up again
            warm(model, protocol, warmupSeconds);
            LAST_TIMING.set(System.nanoTime());
        }
        return measurer;
    }

    /** When this JVM last timed a config (or warmed up); a gap longer than 30 s means other work ran in between. */
    private static final java.util.concurrent.atomic.AtomicLong LAST_TIMING = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    private static final long IDLE_BEFORE_REWARM_NANOS = 30_000_000_000L;

    /** Times the largest and smallest configs of {@code m}'s space for at least {@code seconds} (3 runs at least). */
    public static void warm(SuperTransformer m, LatencyProtocol protocol, double seconds) {
        DesignSpace ds = m.space();
        long until = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < 3 || System.nanoTime() < until; i++) {
            protocol.measure(m, i % 2 == 0 ? ds.largest() : ds.smallest(), i);
        }
    }

    /** Timings in progress in this JVM: a timing that saw another one is flagged {@code concurrent}. */
    private static final java.util.concurrent.atomic.AtomicInteger ACTIVE = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.nio.file.Path PROC = java.nio.file.Path.of("/proc");

    /** Times one config with the protocol (source tokens seeded by its hash), with what disturbed it. */
    public Schedule.Timed time(Schedule.Slot slot, ArchConfig c, boolean paired, TimingClock clock) {
        Disturbance.CpuTimes before = Disturbance.cpuTimes(PROC);
        boolean concurrent = ACTIVE.incrementAndGet() > 1;
        LatencyProtocol.Timing t;
        LatencyProtocol.Paired p = null;
        try {
            if (paired && !slot.reference()) {
                ArchConfig ref = space.median();
                p = protocol.measurePaired(model, c, c.hash().hashCode(), ref, ref.hash().hashCode(), clock);
                t = p.config();
            } else {
                t = protocol.measure(model, c, c.hash().hashCode(), clock);
            }
        } finally {
            concurrent |= ACTIVE.getAndDecrement() > 1;
            LAST_TIMING.set(System.nanoTime());
        }
        return new Schedule.Timed(slot, t, new Disturbance(Disturbance.steal(before, Disturbance.cpuTimes(PROC)),
                Disturbance.loadAvg(PROC), concurrent), p);
    }

    /**
     * Times {@code configs} on the interleaved schedule of {@code options} (seeded by {@code seed}) with
     * the space's median-size config as the reference, and labels them; {@code anchorMs} as in
     * {@link Schedule#label}. {@code progress} sees each timing as it finishes.
     */
    public Schedule.Result measure(List<ArchConfig> configs, ScheduleOptions options, long seed, Double anchorMs,
                                   java.util.function.Consumer<Schedule.Timed> progress) {
        Map<String, ArchConfig> byHash = new java.util.LinkedHashMap<>();
        configs.forEach(c -> byHash.put(c.hash(), c));
        ArchConfig ref = space.median();
        byHash.putIfAbsent(ref.hash(), ref);
        List<Schedule.Slot> plan = Schedule.plan(configs.stream().map(ArchConfig::hash).toList(), ref.hash(),
                options.passes(), options.referenceEvery(), seed);
        List<Schedule.Timed> timed = new java.util.ArrayList<>();
        int torchThreads = dev.hatspark.model.Torch.threads();
        TimingClock clock = options.clock().resolve(torchThreads);
        // which threads of this process worked while it timed: with one PyTorch thread, nearly all CPU
        // should be the timing thread's; more elsewhere means work the clock may not see
        Map<Long, ThreadCpu.Thread> before = ThreadCpu.snapshot();
        long t0 = System.nanoTime();
        for (Schedule.Slot s : plan) {
            Schedule.Timed t = time(s, byHash.get(s.key()), options.paired(), clock);
            timed.add(t);
            progress.accept(t);
        }
        LOG.info("timed {} slots on {} PyTorch thread(s), {} clock: {}", plan.size(), torchThreads, clock.label,
                ThreadCpu.describe(ThreadCpu.used(before, ThreadCpu.snapshot()), ThreadCpu.currentTid(),
                        (System.nanoTime() - t0) / 1e9, 3));
        return Schedule.label(timed, options.statistic(), anchorMs);
    }

    /** A label as a row of {@code latency/measurements/}. */
    public Measurement row(Schedule.Label l, ArchConfig c, Device device, String runId, Instant at) {
        return Measurement.labelled(device, space.name, vocab, c, protocol, l, space.median().hash(), runId, at);
    }
}
