package dev.hatspark.latency;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AccuracyTest {
    @Test
    void kendallTauOnHandWorkedExamples() {
        assertEquals(1.0, Accuracy.kendallTau(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1.0, Accuracy.kendallTau(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-12);
        // pairs: (1,2)+ (1,3)+ (1,4)+ (2,3)- (2,4)+ (3,4)+ -> (5-1)/6
        assertEquals(4.0 / 6, Accuracy.kendallTau(new double[] {1, 2, 3, 4}, new double[] {1, 3, 2, 4}), 1e-12);
    }

    @Test
    void errorsOnAHandWorkedExample() {
        Accuracy a = Accuracy.of(new double[] {10, 20, 30}, new double[] {12, 18, 30});
        assertEquals(Math.sqrt(8.0 / 3), a.rmseMs(), 1e-12);
        assertEquals(Math.sqrt(8.0 / 3) / 20, a.rmseRel(), 1e-12);
        assertEquals((0.2 + 0.1 + 0) / 3, a.mapd(), 1e-12);
        assertEquals(1 - 8.0 / 200, a.r2(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Accuracy.of(new double[0], new double[0]));
    }
}
