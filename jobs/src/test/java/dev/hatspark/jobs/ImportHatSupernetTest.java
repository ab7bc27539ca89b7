package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.supernet.ImportHatSupernet;
import dev.hatspark.model.Batch;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.Ids;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * import-hat-supernet on HAT's own oracle checkpoint (common's test resources hat-oracle/): the imported
 * checkpoint gives HAT's NLL, and eval-subnet and a sweep run on it.
 */
class ImportHatSupernetTest {
    static final Path ORACLE = Path.of("..", "common", "src", "test", "resources", "hat-oracle").toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SmallRun.spark();
    }

    static ImportHatSupernet importer(String root, String pt, String dict) {
        ImportHatSupernet j = new ImportHatSupernet();
        j.run.root = root;
        j.checkpoint = pt;
        j.dict = dict;
        return j;
    }

    @Test
    void importsHatsWeightsWhichGiveHatsNllAndSearchRunsOnThem() throws Exception {
        String root = dir.resolve("run").toString();
        String pt = ORACLE.resolve("supernet-legacy.pt").toString();
        String dict = ORACLE.resolve("dict.txt").toString();
        long t0 = System.nanoTime();
        ImportHatSupernet.Result r = importer(root, pt, dict).run(spark);
        System.out.printf("import-hat-supernet of the oracle file: %.2f s%n", (System.nanoTime() - t0) / 1e9);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = new Layout(root);
        assertEquals("supernet-legacy", r.space());
        assertEquals(60, r.vocab());
        String ckpt = new Checkpoints(fs, layout.checkpoints()).latest().orElseThrow();
        assertEquals(ckpt, r.checkpoint());
        byte[] weights = fs.read(Layout.checkpoint(ckpt).model());
        String stateJson = fs.readText(Layout.checkpoint(ckpt).state());

        // idempotent: the same file gives the same checkpoint bytes
        ImportHatSupernet.Result again = importer(root, pt, dict).run(spark);
        assertEquals(ckpt, again.checkpoint());
        assertArrayEquals(weights, fs.read(Layout.checkpoint(ckpt).model()));
        assertEquals(stateJson, fs.readText(Layout.checkpoint(ckpt).state()));

        byte[] dictBytes = Files.readAllBytes(ORACLE.resolve("dict.txt"));
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        assertEquals(Ids.sha(dictBytes), state.srcVocabFingerprint());
        assertEquals(Ids.sha(dictBytes), state.tgtVocabFingerprint());
        assertEquals(List.of(), state.metrics());
        DesignSpace space = state.space(ckpt);
        assertEquals(Arrangement.HAT, space.arrangement);
        JsonNode provenance = JSON.readTree(fs.readText(layout.supernetImport()));
        assertEquals(pt, provenance.get("source").asText());
        assertEquals(Ids.sha(Files.readAllBytes(Path.of(pt))), provenance.get("sourceSha").asText());
        assertEquals(Ids.sha(dictBytes), provenance.get("dictFingerprint").asText());

        // HAT's numbers on HAT's batch
        JsonNode batchJson = JSON.readTree(ORACLE.resolve("batch.json").toFile());
        JsonNode expected = JSON.readTree(ORACLE.resolve("expected.json").toFile());
        List<int[][]> pairs = new ArrayList<>();
        for (JsonNode id : batchJson.get("id")) {
            pairs.add(new int[][] {withoutEos(batchJson.get("source_token_ids").get(id.asInt())),
                    withoutEos(batchJson.get("target_token_ids").get(id.asInt()))});
        }
        ArchConfig largest = ArchConfig.fromHatYaml(Files.readString(ORACLE.resolve("subtransformers/largest.yml")),
                "largest.yml").validate(space);
        JsonNode gold = null;
        for (JsonNode c : expected.get("configs")) {
            if (c.get("name").asText().equals("largest")) {
                gold = c;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            SuperTransformer model = Checkpoints.loadModel(fs, ckpt, m);
            Batch batch = new Batch(pairs);
            double nll = model.nllSum(largest, batch);
            assertEquals(gold.get("nll_sum").asDouble(), nll, 1e-3);
            assertEquals(176544, model.hatParameterCount(largest));
        }

        // a tiny corpus in the oracle dictionary's ids, so eval-subnet and sweep run on the imported supernet
        Vocab vocab = Vocab.fromFairseqDictionary(Files.readString(ORACLE.resolve("dict.txt")), "dict.txt");
        assertEquals(60, vocab.size());
        List<Row> rows = new ArrayList<>();
        String[] splits = {"train", "valid", "test"};
        for (String split : splits) {
            for (int k = 0; k < 3; k++) {
                for (int i = 0; i < pairs.size(); i++) {
                    rows.add(RowFactory.create(split, split + "-" + k + "-" + i, pairs.get(i)[0], pairs.get(i)[1]));
                }
            }
        }
        fs.writeParquet(spark.createDataFrame(rows, Tables.CORPUS_PAIRS), layout.corpusPairs());
        String fp = Ids.sha(dictBytes);
        fs.writeText(layout.corpusMeta(), new CorpusMeta(true, fp, fp, 60, 60, 12, 12, 12, 0.33, 0.33, null).toJson());

        // HAT's own SubTransformer ymls (a folder, read in name order) on HAT's imported SuperTransformer
        EvalSubnet e = new EvalSubnet();
        e.run.root = root;
        e.configs = List.of(ORACLE.resolve("subtransformers").toString());
        e.maxTokens = 512;
        List<EvalSubnet.Evaluation> evals = e.run(spark);
        List<String> names = List.of("largest", "mixed_a", "mixed_b", "mixed_c", "mixed_d", "smallest");
        List<String> hashes = new ArrayList<>();
        for (String n : names) {
            hashes.add(ArchConfig.fromHatYaml(Files.readString(ORACLE.resolve("subtransformers/" + n + ".yml")), n).hash());
        }
        assertEquals(hashes, evals.stream().map(EvalSubnet.Evaluation::configHash).toList());
        assertEquals(6, spark.read().parquet(layout.evaluations()).count());

        MeasureLatency ml = new MeasureLatency();
        ml.run.root = root;
        ml.samples = 30;
        ml.protocolOptions.srcLen = 8;
        ml.protocolOptions.steps = 8;
        ml.protocolOptions.warmup = 1;
        ml.protocolOptions.runs = 3;
        ml.chunk = 10;
        ml.run(spark);
        FitPredictor f = new FitPredictor();
        f.run.root = root;
        f.hidden = new int[] {8};
        f.maxIter = 30;
        f.gbtIter = 3;
        f.run(spark);

        Sweep s = new Sweep();
        s.run.root = root;
        s.sweepId = "imported";
        s.budgetPercentiles = new double[] {50, 90};
        s.population = 8;
        s.parents = 3;
        s.mutations = 3;
        s.crossovers = 2;
        s.generations = 2;
        s.maxTokens = 512;
        s.run(spark);
        List<Row> best = spark.read().parquet(layout.sweep("imported").best()).collectAsList();
        assertFalse(best.isEmpty());
        for (Row b : best) {
            ArchConfig.fromJson(b.getString(b.fieldIndex("config_json"))).validate(space);
        }
    }

    @Test
    void truncatedCheckpointAndWrongSizedDictionaryAreRefusedInOneLine() throws Exception {
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        byte[] full = Files.readAllBytes(ORACLE.resolve("supernet-legacy.pt"));
        Path truncated = bad.resolve("truncated.pt");
        Files.write(truncated, Arrays.copyOf(full, full.length / 2));
        String dict = ORACLE.resolve("dict.txt").toString();
        String root1 = bad.resolve("run1").toString();
        assertEquals(1, Hat.execute("import-hat-supernet", "--root", root1, "--checkpoint", truncated.toString(),
                "--dict", dict));
        assertFalse(Files.exists(Path.of(root1, "supernet", "checkpoints")) && Files.list(Path.of(root1, "supernet", "checkpoints")).findAny().isPresent());

        Path shortDict = bad.resolve("dict.txt");
        List<String> lines = Files.readAllLines(ORACLE.resolve("dict.txt"));
        Files.write(shortDict, lines.subList(0, lines.size() - 1));
        String root2 = bad.resolve("run2").toString();
        assertEquals(1, Hat.execute("import-hat-supernet", "--root", root2, "--checkpoint",
                ORACLE.resolve("supernet-legacy.pt").toString(), "--dict", shortDict.toString()));
        assertFalse(Files.exists(Path.of(root2, "supernet", "checkpoints")));
    }

    private static int[] withoutEos(JsonNode ids) {
        int[] a = new int[ids.size() - 1];
        for (int i = 0; i < a.length; i++) {
            a[i] = ids.get(i).asInt();
        }
        return a;
    }
}
