package dev.hatspark.latency;

import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** The interleaved schedule and its bookkeeping: order, reference interpolation, normalization, retest error, drift. */
class ScheduleTest {
    static final List<String> KEYS = IntStream.range(0, 20).mapToObj(i -> "c" + i).toList();

    @Test
    void everyConfigOncePerPassInSeededShuffledOrdersWithTheReferenceEveryK() {
        List<Schedule.Slot> plan = Schedule.plan(KEYS, "ref", 3, 4, 7);
        assertEquals(plan, Schedule.plan(KEYS, "ref", 3, 4, 7), "same seed, same schedule");
        assertNotEquals(plan, Schedule.plan(KEYS, "ref", 3, 4, 8));
        List<List<String>> passes = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            int pass = p;
            passes.add(plan.stream().filter(s -> s.pass() == pass).map(Schedule.Slot::key).toList());
            assertEquals(KEYS.stream().sorted().toList(), passes.get(p).stream().sorted().toList(), "pass " + p);
        }
        assertNotEquals(passes.get(0), passes.get(1), "each pass in its own order");
        assertNotEquals(KEYS, passes.get(0), "shuffled");
        for (int i = 0; i < plan.size(); i++) {
            assertEquals(i, plan.get(i).position());
            if (i > 0 && !plan.get(i).reference()) {
                assertNotEquals(plan.get(i).key(), plan.get(i - 1).key(), "never the same config twice in a row");
            }
        }
        assertTrue(plan.get(0).reference() && plan.get(plan.size() - 1).reference());
        int since = 0;
        for (Schedule.Slot s : plan.subList(1, plan.size())) {
            since = s.reference() ? 0 : since + 1;
            assertTrue(since <= 4, "a reference at least every 4 configs");
        }
        assertEquals(60 + 1 + 15, plan.size(), "60 config timings, the first reference and one after every 4th");
        assertTrue(Schedule.plan(KEYS, "ref", 2, 0, 1).stream().noneMatch(Schedule.Slot::reference), "0: no reference");
    }

    @Test
    void badOptionsAreOneLine() {
        BadInputException p = assertThrows(BadInputException.class, () -> Schedule.plan(KEYS, "ref", 0, 4, 1));
        assertTrue(p.getMessage().contains("--passes") && !p.getMessage().contains("\n"), p.getMessage());
        BadInputException r = assertThrows(BadInputException.class, () -> Schedule.plan(KEYS, "ref", 2, -1, 1));
        assertTrue(r.getMessage().contains("--reference-every"), r.getMessage());
        assertThrows(BadInputException.class, () -> Schedule.Statistic.parse("mean"));
        assertEquals(Schedule.Statistic.P25, Schedule.Statistic.parse("P25"));
    }

    static LatencyProtocol.Timing timing(double ms, double p25Factor) {
        return new LatencyProtocol.Timing(stats(ms * 0.25, p25Factor), stats(ms * 0.75, p25Factor));
    }

    static LatencyProtocol.Stats stats(double v, double p25Factor) {
        return new LatencyProtocol.Stats(v, v, v * p25Factor, v * 1.2, 0.1, 10);
    }

    /** Times the plan on a machine whose slowness grows linearly with position: timing = true latency × (1 + a · pos). */
    static List<Schedule.Timed> timeWithDrift(List<Schedule.Slot> plan, Map<String, Double> truth, double a) {
        return plan.stream().map(s -> new Schedule.Timed(s, timing(truth.get(s.key()) * (1 + a * s.position()), 1),
                new Disturbance(0.01 * s.position(), 1.5, s.position() == 3))).toList();
    }

    @Test
    void referenceNormalizationDividesOutLinearDriftExactly() {
        Map<String, Double> truth = new HashMap<>();
        KEYS.forEach(k -> truth.put(k, 10.0 + k.hashCode() % 7));
        truth.put("ref", 12.0);
        List<Schedule.Slot> plan = Schedule.plan(KEYS, "ref", 2, 5, 3);
        double a = 0.01;
        Schedule.Result r = Schedule.label(timeWithDrift(plan, truth, a), Schedule.Statistic.MEDIAN, 24.0);
        assertEquals(KEYS.size(), r.labels().size());
        for (Schedule.Label l : r.labels()) {
            assertEquals(truth.get(l.key()) * 24.0 / 12.0, l.latencyMs(), 1e-9, "the anchor's scale, drift gone: " + l.key());
            assertEquals(l.encoderMs() * 3, l.decoderMs(), 1e-9);
            assertTrue(l.rawMs() > truth.get(l.key()), "raw keeps the drift");
            assertEquals(2, l.passes());
            assertEquals(24.0, l.anchorMs());
            assertEquals(l.rawMs() * 24.0 / l.latencyMs(), l.referenceMs(), 1e-6 * l.referenceMs(),
                    "normalized = raw × anchor / reference (both passes' mean)");
        }
        Schedule.Summary s = r.summary();
        assertEquals(0, s.retestError(), 1e-12, "normalized passes agree exactly");
        assertTrue(s.retestErrorRaw() > 0.05, "raw passes differ by the drift between them: " + s.retestErrorRaw());
        List<Schedule.Slot> refs = plan.stream().filter(Schedule.Slot::reference).toList();
        double first = refs.get(0).position(), last = refs.get(refs.size() - 1).position();
        double meanPos = refs.stream().mapToDouble(Schedule.Slot::position).average().orElseThrow();
        assertEquals(a * (last - first) / (1 + a * meanPos), s.referenceDrift(), 1e-9);
        assertEquals(1.5, s.loadAvg(), 1e-12);
        assertTrue(r.labels().stream().filter(Schedule.Label::concurrent).count() == 1, "the one concurrent timing is flagged");
    }

    @Test
    void withoutAnAnchorTheRunsOwnReferenceMedianIsOne() {
        Map<String, Double> truth = new HashMap<>();
        KEYS.forEach(k -> truth.put(k, 5.0));
        truth.put("ref", 10.0);
        Schedule.Result r = Schedule.label(timeWithDrift(Schedule.plan(KEYS, "ref", 1, 4, 1), truth, 0), Schedule.Statistic.MEDIAN, null);
        assertEquals(10.0, r.summary().anchorMs(), 1e-12);
        assertEquals(5.0, r.labels().get(0).latencyMs(), 1e-12);
        assertNull(r.summary().retestError(), "one pass: no retest error");
    }

    @Test
    void retestErrorPerStatisticAndAnInterferenceBurst() {
        Map<String, Double> truth = new HashMap<>();
        KEYS.forEach(k -> truth.put(k, 10.0));
        truth.put("ref", 10.0);
        List<Schedule.Slot> plan = Schedule.plan(KEYS, "ref", 2, 0, 5);
        // one config's second pass hit by load that slows its median but not its fast runs (p25)
        List<Schedule.Timed> timed = plan.stream().map(s -> new Schedule.Timed(s,
                s.key().equals("c3") && s.pass() == 1 ? new LatencyProtocol.Timing(stats(5, 0.5), stats(15, 0.5))
                        : timing(10, 1), Disturbance.NONE)).toList();
        Schedule.Summary s = Schedule.label(timed, Schedule.Statistic.MEDIAN, null).summary();
        assertNull(s.referenceMs());
        assertNull(s.referenceDrift());
        // 20 configs, one pair differs by 10 ms: sqrt(100 / 20) / mean (10.25)
        assertEquals(Math.sqrt(100 / 20.0) / (410 / 40.0), s.retestError(), 1e-12);
        assertEquals(0, s.retestByStatistic().get("p25"), 1e-12, "the low percentile ignored the burst");
        assertEquals(s.retestError(), s.retestErrorRaw(), 1e-12, "no reference: raw = normalized");
        Schedule.Label c3 = Schedule.label(timed, Schedule.Statistic.MEDIAN, null).labels().stream()
                .filter(l -> l.key().equals("c3")).findFirst().orElseThrow();
        assertEquals(15, c3.latencyMs(), 1e-12, "median of two passes is their mean");
    }

    /**
     * A machine whose speed jumps between 1× and 2× from one pair of runs to the next (a virtual CPU's slow
     * spells): a config run and the reference run just before it share the speed, so paired labels come out
     * exact, while the raw timings of the same runs do not.
     */
    @Test
    void pairedRunsCancelSpeedChangesThatOutlastAPair() {
        Map<String, Double> truth = new HashMap<>();
        KEYS.forEach(k -> truth.put(k, 10.0 + k.hashCode() % 7));
        java.util.SplittableRandom speed = new java.util.SplittableRandom(3);
        List<Schedule.Slot> plan = Schedule.plan(KEYS, "ref", 2, 0, 9);
        List<Schedule.Timed> timed = new ArrayList<>();
        for (Schedule.Slot s : plan) {
            int n = 9;
            double[] enc = new double[n], dec = new double[n], er = new double[n], dr = new double[n], ref = new double[n];
            for (int r = 0; r < n; r++) {
                double f = speed.nextBoolean() ? 2 : 1;
                ref[r] = 12.0 * f;
                enc[r] = truth.get(s.key()) * 0.25 * f;
                dec[r] = truth.get(s.key()) * 0.75 * f;
                er[r] = enc[r] / ref[r];
                dr[r] = dec[r] / ref[r];
            }
            LatencyProtocol.Timing t = new LatencyProtocol.Timing(LatencyProtocol.Stats.of(enc, 0.1), LatencyProtocol.Stats.of(dec, 0.1));
            timed.add(new Schedule.Timed(s, t, Disturbance.NONE, new LatencyProtocol.Paired(t,
                    new LatencyProtocol.Timing(LatencyProtocol.Stats.of(er, 0.1), LatencyProtocol.Stats.of(dr, 0.1)),
                    LatencyProtocol.Stats.of(ref, 0.1))));
        }
        Schedule.Result r = Schedule.label(timed, Schedule.Statistic.P25, 24.0);
        for (Schedule.Label l : r.labels()) {
            assertEquals(truth.get(l.key()) * 24.0 / 12.0, l.latencyMs(), 1e-9, "exact in the anchor's scale: " + l.key());
            assertEquals(l.encoderMs() * 3, l.decoderMs(), 1e-9);
            assertEquals(Schedule.PAIRED_MEDIAN, l.statistic());
        }
        assertEquals(Schedule.PAIRED_MEDIAN, r.summary().statistic());
        assertEquals(0, r.summary().retestError(), 1e-12, "paired passes agree exactly");
        assertTrue(r.summary().retestErrorRaw() > 0.05, "the raw timings keep the speed changes: " + r.summary().retestErrorRaw());
        // without an anchor the reference runs paired with the configs set the scale
        Schedule.Result own = Schedule.label(timed, Schedule.Statistic.P25, null);
        double anchor = own.summary().anchorMs();
        assertTrue(anchor >= 12.0 && anchor <= 24.0, "a p25 of 12 ms runs at 1× or 2× speed: " + anchor);
        Schedule.Label first = own.labels().get(0);
        assertEquals(truth.get(first.key()) * anchor / 12.0, first.latencyMs(), 1e-9);
    }

    @Test
    void pooledErrorWeighsByConfigs() {
        assertEquals(Math.sqrt((100 * 0.01 + 300 * 0.04) / 400), Schedule.pooled(List.of(0.1, 0.2), List.of(100, 300)), 1e-12);
        assertNull(Schedule.pooled(java.util.Arrays.asList(null, null), List.of(1, 2)));
    }

    @Test
    void aBudgetIsMetWithinTheLabelNoise() {
        assertTrue(Schedule.meetsBudget(104, 100.0, 0.05));
        assertFalse(Schedule.meetsBudget(106, 100.0, 0.05));
        assertFalse(Schedule.meetsBudget(101, 100.0, null), "no noise figure, no allowance");
        assertNull(Schedule.meetsBudget(50, null, 0.05), "the baseline has no budget");
    }

    @Test
    void reanchoringScalesTheLabelNotTheRawTiming() {
        ArchConfig c = DesignSpace.builtin("demo").median();
        Map<String, Double> truth = Map.of(c.hash(), 10.0);
        List<Schedule.Slot> plan = Schedule.plan(List.of(c.hash()), c.hash(), 2, 1, 1);
        Schedule.Label l = Schedule.label(timeWithDrift(plan, truth, 0), Schedule.Statistic.MEDIAN, 20.0).labels().get(0);
        Measurement m = Measurement.labelled(new Device("x-1t", "x", 1, "Linux/amd64", "0", "0"), "demo", 100, c,
                LatencyProtocol.hat(), l, c.hash(), "run", java.time.Instant.EPOCH);
        assertEquals(20.0, m.latencyMs(), 1e-9, "the reference itself, on a 20 ms anchor");
        Measurement r = m.reanchored(30.0);
        assertEquals(30.0, r.latencyMs(), 1e-9);
        assertEquals((Double) r.get("encoder_ms") + (Double) r.get("decoder_ms"), r.latencyMs(), 1e-9);
        assertEquals(m.get("raw_latency_ms"), r.get("raw_latency_ms"));
        assertEquals(30.0, r.get("reference_anchor_ms"));
        assertSame(m, m.reanchored(20.0));
    }

    @Test
    void theReferenceIsTheSpacesMedianSizeConfig() {
        DesignSpace s = DesignSpace.builtin("demo");
        ArchConfig m = s.median();
        assertTrue(m.encoderEmbedDim() > s.smallest().encoderEmbedDim() || s.encoderEmbedDim.length < 3);
        assertTrue(m.encoderEmbedDim() < s.largest().encoderEmbedDim());
        assertTrue(m.decoderLayerNum() <= s.largest().decoderLayerNum() && m.decoderLayerNum() >= s.smallest().decoderLayerNum());
        assertEquals(m, DesignSpace.builtin("demo").median());
    }

    @Test
    void procReadingsAndTheirAbsence(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("stat"), "cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n");
        Files.writeString(dir.resolve("loadavg"), "2.50 1.00 0.50 3/200 1234\n");
        Disturbance.CpuTimes a = Disturbance.cpuTimes(dir);
        assertEquals(new Disturbance.CpuTimes(40, 1000), a);
        assertEquals(2.5, Disturbance.loadAvg(dir));
        assertEquals(0.25, Disturbance.steal(a, new Disturbance.CpuTimes(65, 1100)), 1e-12);
        Path none = dir.resolve("absent");
        assertNull(Disturbance.cpuTimes(none));
        assertNull(Disturbance.loadAvg(none));
        assertNull(Disturbance.steal(null, a));
    }
}
