package dev.hatspark.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SplitsTest {

    private static List<String> refs(int n) {
        List<String> refs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            refs.add("Book" + (i % 66) + " " + (i / 66 % 150 + 1) + ":" + (i / 9900 + 1) + "." + i);
        }
        return refs;
    }

    @Test
    void deterministic() {
        for (String ref : refs(500)) {
            assertEquals(Splits.splitOf(ref, 0.1, 0.05), Splits.splitOf(ref, 0.1, 0.05));
        }
        assertEquals(Splits.splitOf("Genesis 1:1", 0.1, 0.1), Splits.splitOf(new String("Genesis 1:1"), 0.1, 0.1));
    }

    @Test
    void fractionsRoughlyMatch() {
        Map<String, Integer> counts = new HashMap<>();
        List<String> refs = refs(20_000);
        for (String ref : refs) {
            counts.merge(Splits.splitOf(ref, 0.1, 0.05), 1, Integer::sum);
        }
        assertEquals(0.05, counts.get("test") / 20_000.0, 0.01, counts.toString());
        assertEquals(0.10, counts.get("valid") / 20_000.0, 0.01, counts.toString());
        assertEquals(0.85, counts.get("train") / 20_000.0, 0.01, counts.toString());
    }

    @Test
    void splitDependsOnlyOnTheRef() {
        List<String> all = refs(2000);
        Map<String, String> alone = new HashMap<>();
        for (String ref : all) {
            alone.put(ref, Splits.splitOf(ref, 0.1, 0.1));
        }
        // a different, shuffled subset of refs: every ref keeps its split
        List<String> subset = new ArrayList<>(all.subList(500, 1500));
        Collections.shuffle(subset, new Random(7));
        for (String ref : subset) {
            assertEquals(alone.get(ref), Splits.splitOf(ref, 0.1, 0.1));
        }
    }

    @Test
    void growingTestFractionOnlyAddsToTest() {
        for (String ref : refs(5000)) {
            if (Splits.splitOf(ref, 0.1, 0.05).equals("test")) {
                assertEquals("test", Splits.splitOf(ref, 0.1, 0.1), ref);
            }
        }
    }

    @Test
    void zeroFractionsGiveAllTrain() {
        for (String ref : refs(1000)) {
            assertEquals("train", Splits.splitOf(ref, 0, 0));
        }
    }

    @Test
    void invalidFractionsNameTheParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Splits.splitOf("x", 0.6, 0.1));
        assertTrue(e.getMessage().contains("validFraction"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Splits.splitOf("x", 0.1, -0.01));
        assertTrue(e.getMessage().contains("testFraction"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Splits.splitOf("x", 0.1, Double.NaN));
        assertTrue(e.getMessage().contains("testFraction"), e.getMessage());
    }
}
