package dev.hatspark.latency;

import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The measurement CSV formats: ours round-trips exactly; HAT's imports; bad rows name file, line and column. */
class MeasurementCsvTest {
    static final MeasurementCsv.HatContext CTX = new MeasurementCsv.HatContext("hat-pi", "Cortex-A72", "hat-wmt14");
    static final String HAT_HEADER = String.join(",", Features.HAT10) + ",latency_mean_encoder,latency_mean_decoder,"
            + "latency_std_encoder,latency_std_decoder";

    static Measurement timed(ArchConfig c, double enc, double dec) {
        LatencyProtocol.Stats e = new LatencyProtocol.Stats(enc, enc, enc * 0.9, enc * 1.1, 0.5, 20);
        LatencyProtocol.Stats d = new LatencyProtocol.Stats(dec, dec, dec * 0.9, dec * 1.1, 1.5, 20);
        return Measurement.timed(new Device("cpu-4t", "Some CPU, \"quoted\"", 4, "Linux/aarch64", "0.35.1", "2.7.1"),
                "demo", 8000, c, LatencyProtocol.hat(), new LatencyProtocol.Timing(e, d), Instant.parse("2026-01-02T03:04:05.123456Z"));
    }

    @Test
    void ourFormatRoundTripsEveryColumn() {
        DesignSpace s = DesignSpace.builtin("demo");
        List<Measurement> rows = Genetics.sampleDistinct(s, 5, 3).stream().map(c -> timed(c, 1.0 / 3, 7.25)).toList();
        StringBuilder csv = new StringBuilder(MeasurementCsv.header()).append('\n');
        rows.forEach(m -> csv.append(MeasurementCsv.line(m)).append('\n'));
        MeasurementCsv.Parsed p = MeasurementCsv.parse(csv.toString(), "m.csv", null);
        assertEquals(MeasurementCsv.OURS, p.format());
        assertEquals(List.of(), p.bad());
        assertEquals(rows, p.rows(), "values, doubles and the timestamp read back exactly");
        assertEquals(1.0 / 3 + 7.25, p.rows().get(0).latencyMs(), 0);
        assertTrue(MeasurementCsv.header().startsWith("hardware_id,cpu_model,threads,"));
    }

    @Test
    void aCsvWrittenBeforeTheInterleavedProtocolReadsWithTheAddedColumnsNull() {
        Measurement m = timed(Genetics.sampleDistinct(DesignSpace.builtin("demo"), 1, 3).get(0), 2, 5);
        int old = Measurement.COLUMNS.size() - Measurement.ADDED.size();
        String header = String.join(",", MeasurementCsv.header().split(",", -1)).substring(0,
                MeasurementCsv.header().indexOf(",raw_latency_ms"));
        String[] f = MeasurementCsv.line(m).split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1);
        String line = String.join(",", java.util.Arrays.copyOf(f, old));
        MeasurementCsv.Parsed p = MeasurementCsv.parse(header + "\n" + line + "\n", "old.csv", null);
        assertEquals(List.of(), p.bad());
        Measurement back = p.rows().get(0);
        assertEquals(7.0, back.latencyMs(), 1e-12);
        for (Measurement.Column c : Measurement.ADDED) {
            assertNull(back.get(c.name()), c.name());
        }
    }

    @Test
    void badRowsNameFileLineColumnAndValue() {
        ArchConfig c = DesignSpace.builtin("demo").smallest();
        String good = MeasurementCsv.line(timed(c, 1, 2));
        String negative = good.replace(",2.0,3.0,", ",-3.0,-1.0,");
        String text = MeasurementCsv.header() + "\n" + good + "\n" + negative + "\n"
                + good.replace(c.hash(), "0000000000000000") + "\n" + good.substring(0, 40);
        MeasurementCsv.Parsed p = MeasurementCsv.parse(text, "dev.csv", null);
        assertEquals(1, p.rows().size());
        assertEquals(3, p.bad().size(), p.bad().toString());
        assertEquals("dev.csv:3: column 'decoder_ms' expected a positive number, got '-3.0'", p.bad().get(0).toString());
        assertTrue(p.bad().get(1).toString().startsWith("dev.csv:4: column 'config_hash' expected the hash of config_json"),
                p.bad().get(1).toString());
        assertTrue(p.bad().get(2).toString().startsWith("dev.csv:5: ") && p.bad().get(2).toString().contains("cut short"),
                p.bad().get(2).toString());
    }

    @Test
    void hatFormatImportsAsHat10OnlyRows() {
        String text = HAT_HEADER + "\n"
                + "512,6,1877.33,6.0,640,3,1706.67,6.0,2.67,1.33,1990.1,5932.5,413.9,45.9\n"
                + "640,6,1024,8,512,1,3072,8,8,3,9.5,110.5,0.1,2.0\n";
        MeasurementCsv.Parsed p = MeasurementCsv.parse(text, "pi.csv", CTX);
        assertEquals(MeasurementCsv.HAT, p.format());
        assertEquals(List.of(), p.bad());
        Measurement m = p.rows().get(0);
        assertEquals(true, m.get("hat10_only"));
        assertEquals("hat-pi", m.hardwareId());
        assertEquals("hat-wmt14", m.get("space"));
        assertNull(m.get("config_json"));
        assertEquals(1990.1 + 5932.5, m.latencyMs(), 1e-9);
        assertEquals(Math.hypot(413.9, 45.9), (Double) m.get("std_ms"), 1e-9);
        assertEquals(30, m.get("src_len"));
        assertEquals(1877.33, (Double) m.get("encoder_ffn_embed_dim_avg"), 0);
        assertEquals(16, m.configHash().length());
        assertNotEquals(m.configHash(), p.rows().get(1).configHash());
        assertEquals(m.configHash(), MeasurementCsv.parse(text, "again.csv", CTX).rows().get(0).configHash(),
                "the row key is a function of the row");
        // standard deviations are optional
        String noStd = String.join(",", Features.HAT10) + ",latency_mean_encoder,latency_mean_decoder\n1,1,1,1,1,1,1,1,1,1,2,3\n";
        assertNull(MeasurementCsv.parse(noStd, "x.csv", CTX).rows().get(0).get("std_ms"));
    }

    @Test
    void hatFormatBadRowsAndMissingColumns() {
        String text = HAT_HEADER + "\n"
                + "512,6,1877.33,6.0,640,3,1706.67,6.0,2.67,1.33,1990.1,-3,413.9,45.9\n"
                + "512,6,abc,6.0,640,3,1706.67,6.0,2.67,1.33,1990.1,3,413.9,45.9\n"
                + "512,6,1877.33,6.0,640,3,1706.67,6.0,2.67,1.33,0,3,413.9,45.9\n"
                + "512,6,1877.33,6.0,640,3\n";
        MeasurementCsv.Parsed p = MeasurementCsv.parse(text, "bad.csv", CTX);
        assertEquals(List.of(), p.rows());
        assertEquals(List.of(
                "bad.csv:2: column 'latency_mean_decoder' expected a positive number, got '-3'",
                "bad.csv:3: column 'encoder_ffn_embed_dim_avg' expected a number, got 'abc'",
                "bad.csv:4: column 'latency_mean_encoder' expected a positive number, got '0'",
                "bad.csv:5: expected 14 fields, got 6"),
                p.bad().stream().map(Object::toString).toList());

        String noDecoder = HAT_HEADER.replace("latency_mean_decoder,", "") + "\n1,1,1,1,1,1,1,1,1,1,2,3,4\n";
        var e = assertThrows(IllegalArgumentException.class, () -> MeasurementCsv.parse(noDecoder, "h.csv", CTX));
        assertEquals("h.csv:1: missing column 'latency_mean_decoder' (HAT's latency CSV)", e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> MeasurementCsv.parse("a,b\n1,2\n", "o.csv", CTX));
        assertTrue(e2.getMessage().startsWith("o.csv:1: not a latency CSV"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> MeasurementCsv.parse(text, "bad.csv", null));
        assertTrue(e3.getMessage().contains("HAT's latency format"), e3.getMessage());
    }
}
