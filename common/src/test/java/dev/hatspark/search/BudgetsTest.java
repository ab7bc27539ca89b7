package dev.hatspark.search;

import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BudgetsTest {
    @Test
    void percentilesOfPredictedLatencyAreOrderedWholeMillisecondsWithinTheSpacesRange() {
        DesignSpace s = DesignSpace.builtin("demo");
        java.util.function.ToDoubleFunction<dev.hatspark.space.ArchConfig> ms = c -> c.encoderEmbedDim() * c.decoderLayerNum() / 7.0;
        double[] b = Budgets.percentiles(s, ms, 500, 11, 20, 50, 90);
        assertTrue(b[0] <= b[1] && b[1] <= b[2], java.util.Arrays.toString(b));
        assertTrue(b[0] >= Math.floor(ms.applyAsDouble(s.smallest())) && b[2] <= Math.ceil(ms.applyAsDouble(s.largest())));
        for (double x : b) {
            assertTrue(x == Math.rint(x), "whole ms: " + x);
        }
        assertArrayEquals(b, Budgets.percentiles(s, ms, 500, 11, 20, 50, 90), "seeded");
        assertThrows(IllegalArgumentException.class, () -> Budgets.percentiles(s, ms, 10, 1, 101));
    }

    @Test
    void autoSpreadsBudgetsEvenlyAboveTheSmallestConfigUpToTheLargest() {
        DesignSpace s = DesignSpace.builtin("demo");
        java.util.function.ToDoubleFunction<dev.hatspark.space.ArchConfig> ms = c -> c.encoderEmbedDim() * c.decoderLayerNum() / 7.0;
        double lo = ms.applyAsDouble(s.smallest()), hi = ms.applyAsDouble(s.largest());
        double[] b = Budgets.spread(s, ms, 4);
        assertArrayEquals(new double[] {lo + (hi - lo) / 4, lo + (hi - lo) / 2, lo + 3 * (hi - lo) / 4, hi}, b, 0.05);
        assertArrayEquals(new double[] {Math.round(hi * 10) / 10.0}, Budgets.spread(s, ms, 1));
        assertThrows(IllegalArgumentException.class, () -> Budgets.spread(s, ms, 0));
        assertThrows(IllegalArgumentException.class, () -> Budgets.spread(s, c -> 5.0, 3), "a flat predictor has no range");
    }
}
