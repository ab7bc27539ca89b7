package dev.hatspark.jobs;

import dev.hatspark.jobs.cli.Redact;
import dev.hatspark.jobs.supernet.TrainSupernet;
import dev.hatspark.jobs.cli.Profile;
import dev.hatspark.jobs.search.Sweep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Run profiles: precedence, validation and secret masking, through picocli's real parser (no Spark needed). */
class ProfileTest {

    private static Object parse(Profile p) {
        CommandLine cli = new CommandLine(new Hat());
        p.validate(cli);
        cli.setDefaultValueProvider(p);
        return cli.parseArgs(p.args()).subcommand().commandSpec().userObject();
    }

    private static Path write(Path dir, String yaml) throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void explicitOptionBeatsOverrideBeatsJobSectionBeatsTopLevel(@TempDir Path dir) throws Exception {
        Path f = write(dir, """
                root: /data/top
                seed: 3
                sweep:
                  seed: 5
                  population: 40
                  budgets: [100, 150.5]
                train-supernet:
                  steps: 1000
                spark:
                  spark.executor.memory: 8g
                """);
        Sweep s = (Sweep) parse(Profile.parse("sweep", "--profile", f.toString(), "population=20", "--generations", "2"));
        assertEquals("/data/top", s.run.root);          // top level applies to every job's --root
        assertEquals(5, s.seed);                        // the job's section beats the top level
        assertEquals(20, s.population);                 // an override beats the file
        assertEquals(2, s.generations);                 // an explicit option beats everything
        assertArrayEquals(new double[] {100, 150.5}, s.budgets);

        TrainSupernet t = (TrainSupernet) parse(Profile.parse("train-supernet", "--profile=" + f, "train-supernet.steps=7",
                "--root", "/data/cli"));
        assertEquals(7, t.recipe.steps);
        assertEquals(3, t.recipe.seed);                        // no train-supernet seed: the top-level one
        assertEquals("/data/cli", t.run.root);
        assertEquals("8g", Profile.parse("--profile", f.toString(), "sweep").sparkSettings().get("spark.executor.memory"));
    }

    @Test
    void withoutAProfileTheBuiltInDefaultsHold() {
        Sweep s = (Sweep) parse(Profile.parse("sweep", "--budgets", "90"));
        assertEquals(new Sweep().population, s.population);
        assertArrayEquals(new double[] {90}, s.budgets);
        Sweep auto = (Sweep) parse(Profile.parse("sweep", "--budgets", "auto:10"));
        assertEquals(10, auto.autoBudgets);
        assertNull(auto.budgets);
        assertEquals("runs/demo", s.run.root);
    }

    @Test
    void typosFailBeforeAnyWorkWithOneLineNamingTheKey(@TempDir Path dir) throws Exception {
        Path f = write(dir, "sweep:\n  populaton: 40\n");
        var e = assertThrows(IllegalArgumentException.class, () -> parse(Profile.parse("sweep", "--profile", f.toString())));
        assertEquals("profile " + f + ": sweep.populaton: job sweep has no option --populaton", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> parse(Profile.parse("sweep", "swep.population=3")));
        assertTrue(e.getMessage().startsWith("override 'swep.population': no job 'swep' (jobs: ["), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse(Profile.parse("sweep", "stpes=3")));
        assertEquals("override 'stpes': no job has an option --stpes", e.getMessage());

        Path bad = write(dir, "sweep:\n  budgets: {a: 1}\n");
        e = assertThrows(IllegalArgumentException.class, () -> Profile.parse("--profile", bad.toString()));
        assertTrue(e.getMessage().contains("sweep.budgets expected a value or a list"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Profile.parse("--profile", dir.resolve("nope.yaml").toString()));
        assertTrue(e.getMessage().startsWith("profile " + dir.resolve("nope.yaml") + ": cannot read it"), e.getMessage());
    }

    @Test
    void badProfileEndsTheCliWithOneLineAndExitCode1(@TempDir Path dir) throws Exception {
        Path f = write(dir, "sweep:\n  populaton: 40\n");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            assertEquals(1, Hat.execute("sweep", "--profile", f.toString()));
        } finally {
            System.setErr(err);
        }
        assertEquals(1, captured.toString().lines().count(), captured.toString());
        assertTrue(captured.toString().startsWith("hat: error: profile " + f), captured.toString());
    }

    @Test
    void secretsAreMaskedInTheDescription(@TempDir Path dir) throws Exception {
        String planted = "planted-" + System.nanoTime();
        Path f = write(dir, "spark:\n  spark.hadoop.fs.s3a.secret.key: " + planted + "\n  spark.hadoop.fs.s3a.endpoint: http://x\n");
        Profile p = Profile.parse("--profile", f.toString(), "spark.hadoop.fs.s3a.session.token=" + planted + "2",
                "sweep", "db-password=" + planted + "3");
        assertEquals(planted, p.sparkSettings().get("spark.hadoop.fs.s3a.secret.key")); // the session still gets it
        String d = p.describe();
        assertFalse(d.contains(planted), d);
        assertTrue(d.contains("spark.hadoop.fs.s3a.endpoint=http://x"), d);
        assertTrue(Redact.isSecret("fs.s3a.access.key") && Redact.isSecret("GITHUB_TOKEN") && !Redact.isSecret("fs.s3a.endpoint"));
    }

    @Test
    void theShippedProfilesNameOnlyRealOptions() {
        for (String name : new String[] {"demo", "emr-wmt14"}) {
            Path f = Path.of("..", "conf", name + ".yaml");
            Profile p = Profile.parse("--profile", f.toString(), "sweep");
            p.validate(new CommandLine(new Hat()));
            Sweep s = (Sweep) parse(p);
            assertTrue((s.budgets != null ? s.budgets : s.budgetPercentiles).length >= 3, name);
        }
    }
}
