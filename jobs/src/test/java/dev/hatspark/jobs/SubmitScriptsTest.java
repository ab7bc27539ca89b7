package dev.hatspark.jobs;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.Profile;
import dev.hatspark.jobs.search.Sweep;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster launch recipes in submit/ start real jobs: every job name and option in them parses with our CLI. */
class SubmitScriptsTest {
    private static final Path PROFILE = Path.of("..", "conf", "emr-wmt14.yaml");

    /** What Hat would run for these arguments (a profile on S3 replaced by the checked-in file). */
    private static Job parse(List<String> hatArgs) {
        List<String> local = hatArgs.stream().map(a -> a.endsWith("emr-wmt14.yaml") ? PROFILE.toString() : a).toList();
        Profile p = Profile.parse(local.toArray(String[]::new));
        CommandLine cli = new CommandLine(new Hat());
        p.validate(cli);
        cli.setDefaultValueProvider(p);
        return (Job) cli.parseArgs(p.args()).subcommand().commandSpec().userObject();
    }

    @Test
    void everyEmrStepRunsAJobOfOursWithTheProfile() throws Exception {
        JsonNode steps = new ObjectMapper().readTree(Path.of("..", "submit", "emr-steps.json").toFile());
        assertTrue(steps.size() >= 5);
        for (JsonNode step : steps) {
            assertEquals("command-runner.jar", step.get("Jar").asText());
            List<String> args = new ArrayList<>();
            step.get("Args").forEach(a -> args.add(a.asText()));
            assertEquals("spark-submit", args.get(0));
            assertEquals("dev.hatspark.jobs.Hat", args.get(args.indexOf("--class") + 1));
            int jar = args.indexOf(args.stream().filter(a -> a.endsWith("hat-jobs.jar")).findFirst().orElseThrow());
            Job job = parse(args.subList(jar + 1, args.size()));
            assertEquals(step.get("Name").asText(), "hat " + job.name());
            assertTrue(args.contains("spark.executorEnv.MALLOC_ARENA_MAX=1"), step.get("Name") + ": submit/hat's malloc settings");
            if (job instanceof Sweep s) {
                assertEquals(125, s.population); // from the profile, not the built-in default
                assertEquals("s3a://my-hat-bucket/runs/wmt14", s.run.root);
            }
        }
    }

    @Test
    void yarnLauncherShipsALocalProfileAndPassesTheRestThrough(@TempDir Path tmp) throws Exception {
        // a stand-in spark-submit that records its arguments: the launcher's own logic runs for real
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path fake = bin.resolve("spark-submit");
        Files.writeString(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGS_OUT\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.createFile(tmp.resolve("hat-jobs.jar"));
        Path out = tmp.resolve("args.txt");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "submit", "yarn").toString(), "sweep",
                "--profile", PROFILE.toString(), "sweep.generations=3", "--seed", "7");
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("HAT_JAR", jar.toString());
        pb.environment().put("ARGS_OUT", out.toString());
        pb.environment().put("HAT_SUBMIT_OPTS", "--driver-memory 2g");
        Process p = pb.inheritIO().start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        List<String> args = Files.readAllLines(out);
        assertEquals(List.of("--master", "yarn", "--deploy-mode", "cluster"), args.subList(0, 4));
        assertEquals(PROFILE.toString(), args.get(args.indexOf("--files") + 1));
        assertEquals("2g", args.get(args.indexOf("--driver-memory") + 1));
        assertTrue(args.contains("spark.executorEnv.MALLOC_ARENA_MAX=1") && args.contains("spark.yarn.appMasterEnv.MALLOC_ARENA_MAX=1"),
                "executors and driver get submit/hat's malloc settings: " + args);
        List<String> hatArgs = args.subList(args.indexOf(jar.toString()) + 1, args.size());
        assertEquals(List.of("sweep", "--profile", "emr-wmt14.yaml", "sweep.generations=3", "--seed", "7"), hatArgs);
        Sweep s = (Sweep) parse(hatArgs);
        assertEquals(3, s.generations);
        assertEquals(7, s.seed);
    }
}
