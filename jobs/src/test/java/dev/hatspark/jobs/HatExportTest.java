package dev.hatspark.jobs;

import dev.hatspark.jobs.search.HatExport;
import dev.hatspark.jobs.store.ConfigInputs;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.subnet.Targets;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HAT ymls out of a real small run and back in: the sweep's {@code hat/} winners, export-hat, and
 * eval-subnet reading the exported folder (the winners' losses come back from the cache by hash).
 */
class HatExportTest {
    @TempDir
    Path tmp;

    @Test
    void sweepWinnersGoOutAsHatYmlsAndComeBackAsTheSameConfigs() throws Exception {
        SparkSession spark = SmallRun.spark();
        String root = SmallRun.root(spark);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout.Sweep sweep = new Layout(root).sweep("small");
        List<Row> best = spark.read().parquet(sweep.best()).orderBy("budget_ms").collectAsList();
        assertEquals(2, best.size());

        // the sweep wrote one yml per budget, named with budget and loss; each reads back to the winner's hash
        List<String> files = fs.listIds(sweep.hat());
        assertEquals(2, files.size(), files.toString());
        for (Row b : best) {
            String name = files.stream().filter(f -> f.contains("@" + plain(b.getAs("budget_ms")) + "ms_")).findFirst()
                    .orElseThrow(() -> new AssertionError("no file of budget " + b.getAs("budget_ms") + " in " + files));
            assertTrue(name.matches("hat-spark_tiny_.+@[0-9.]+ms_loss@[0-9]+\\.[0-9]{3}\\.yml"), name);
            assertTrue(name.endsWith(String.format(java.util.Locale.ROOT, "_loss@%.3f.yml", b.<Double>getAs("val_loss"))), name);
            List<ArchConfig> back = ConfigInputs.read(fs, Fs.join(sweep.hat(), name), null);
            assertEquals(b.<String>getAs("config_hash"), back.get(0).hash(), name);
        }

        // rewriting is idempotent and removes a yml no winner has any more
        List<byte[]> before = files.stream().map(f -> fs.read(Fs.join(sweep.hat(), f))).toList();
        fs.writeText(Fs.join(sweep.hat(), "hat-spark_tiny_old@1ms_loss@9.000.yml"), ArchConfig.fromJson(
                best.get(0).getAs("config_json")).toHatYaml());
        HatExport.writeSweepWinners(spark, fs, sweep, "tiny");
        assertEquals(files, fs.listIds(sweep.hat()));
        for (int i = 0; i < files.size(); i++) {
            assertArrayEquals(before.get(i), fs.read(Fs.join(sweep.hat(), files.get(i))), files.get(i));
        }

        // export-hat: winners (the same bytes as the sweep's), the largest, a config, the SuperTransformer keys
        DesignSpace space = DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
        ArchConfig fresh = Genetics.sample(space, new SplittableRandom(99));
        String out = tmp.resolve("hat").toString();
        assertEquals(0, Hat.execute("export-hat", "--root", root, "--sweep", "small", "--largest", "--config", fresh.toJson(),
                "--out", out));
        List<String> exported;
        try (Stream<Path> s = Files.list(Path.of(out))) {
            // (Hadoop's local file system adds hidden .crc checksum files, which readers pass over)
            exported = s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
        assertEquals(5, exported.size(), exported.toString());
        for (String f : files) {
            assertArrayEquals(fs.read(Fs.join(sweep.hat(), f)), Files.readAllBytes(Path.of(out, f)), f);
        }
        assertTrue(exported.contains("hat-spark_tiny_largest.yml") && exported.contains("hat-spark_tiny_" + fresh.hash() + ".yml")
                && exported.contains("hat-spark_tiny_supertransformer.yml"), exported.toString());

        // eval-subnet on the exported folder: its configs in file-name order (the SuperTransformer yml passed
        // over); the winners' and the largest's losses come from the cache, keyed by the config hash
        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.configs = List.of(out);
        e.maxTokens = 512;
        List<EvalSubnet.Evaluation> evals = e.run(spark);
        List<String> expected = new ArrayList<>();
        for (String f : exported) {
            if (!f.endsWith("_supertransformer.yml")) {
                expected.add(ConfigInputs.read(fs, Path.of(out, f).toString(), space).get(0).hash());
            }
        }
        assertEquals(expected, evals.stream().map(EvalSubnet.Evaluation::configHash).toList());
        for (Row b : best) {
            EvalSubnet.Evaluation ev = evals.stream().filter(x -> x.configHash().equals(b.getAs("config_hash"))).findFirst()
                    .orElseThrow();
            assertTrue(ev.cached());
            assertEquals(b.<Double>getAs("val_loss"), ev.valLoss(), 0.0);
        }
        assertTrue(evals.stream().anyMatch(x -> x.configHash().equals(space.largest().hash()) && x.cached()));
        assertTrue(Double.isFinite(evals.stream().filter(x -> x.configHash().equals(fresh.hash())).findFirst().orElseThrow()
                .valLoss()));

        // train-subnet's and evaluate's selection takes the same folder
        Targets targets = new Targets();
        targets.configs = List.of(out);
        List<Targets.Target> chosen = targets.resolve(spark, new Layout(root), space);
        assertEquals(expected, chosen.stream().map(t -> t.config().hash()).toList());
        assertTrue(chosen.stream().allMatch(t -> t.role().equals("config")));

        // a yml outside the space stops the job in one line; a budget the sweep lacks too
        Files.writeString(Path.of(out, "zz.yml"), space.largest().toHatYaml().replace("encoder-embed-dim-subtransformer: 32",
                "encoder-embed-dim-subtransformer: 48"));
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(1, Hat.execute("eval-subnet", "--root", root, "--config", out));
        } finally {
            System.setErr(err);
        }
        assertTrue(captured.toString(java.nio.charset.StandardCharsets.UTF_8).contains("hat eval-subnet: error: "
                + Path.of(out, "zz.yml") + ": 'encoder-embed-dim-subtransformer'=48 is not in design space 'tiny'"), captured.toString());
        assertEquals(1, Hat.execute("export-hat", "--root", root, "--sweep", "small", "--budget", "0.001", "--out", out));
    }

    private static String plain(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
