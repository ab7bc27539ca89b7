package dev.hatspark.jobs;

import dev.hatspark.util.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input ends in one line; anything else (a bug, Hadoop's own argument errors) keeps its stack trace. */
class HatCliTest {
    @Test
    void onlyBadInputCountsAsUserErrorWhereverItIsWrapped() {
        BadInputException bad = new BadInputException("f.csv: column 'x' expected a number");
        assertSame(bad, Hat.badInput(new RuntimeException("task failed", new IllegalStateException(bad))));
        assertNull(Hat.badInput(new IllegalArgumentException("Wrong FS: s3a://b/x, expected: file:///")),
                "an IllegalArgumentException that is not bad input is a failure to show in full");
    }

    @Test
    void aBadInputErrorIsOneLineAndDebugAddsItsStackTrace(@TempDir Path dir) {
        SmallRun.spark();
        String[] args = {"sweep", "--root", dir.toString(), "--budgets", "50"};
        String plain = stderr(1, args);
        assertEquals(1, plain.strip().lines().count(), plain);
        assertTrue(plain.startsWith("hat sweep: error: no checkpoint under "), plain);
        String debug = stderr(1, "sweep", "--debug", "--root", dir.toString(), "--budgets", "50");
        assertTrue(debug.startsWith(plain.strip()) && debug.contains("\tat dev.hatspark.jobs."), debug);
        assertFalse(stderr(1, args).contains("\tat "));
    }

    private static String stderr(int exit, String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(exit, Hat.execute(args));
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
