package dev.hatspark.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.jobs.analysis.Report;
import dev.hatspark.jobs.latency.ImportHatPredictor;
import dev.hatspark.jobs.latency.ImportLatency;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.latency.PredictLatency;
import dev.hatspark.jobs.ml.MlpRegressionModel;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.latency.Features;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import dev.hatspark.util.BadInputException;
import org.apache.spark.ml.feature.ElementwiseProduct;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * import-hat-predictor on the synthetic HAT-format predictor of common's test resources
 * (hat-predictor/, made by torch), its use by the sweep's space check, the report and
 * predict-latency; and, when the shared folder is there, HAT's two published predictors against
 * what PyTorch computes from them.
 */
class ImportHatPredictorTest {
    static final Path FIXTURE = Path.of("..", "common", "src", "test", "resources", "hat-predictor").toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SparkSession spark;

    @BeforeAll
    static void start() {
        System.setProperty("hat.spark.master", "local[2]");
        spark = Spark.session("test");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static ImportHatPredictor importer(String root, String file, String... args) {
        ImportHatPredictor i = new ImportHatPredictor();
        List<String> a = new ArrayList<>(List.of(file, "--root", root));
        a.addAll(List.of(args));
        new CommandLine(i).parseArgs(a.toArray(String[]::new));
        return i;
    }

    static PredictLatency predictor(String root, String... args) {
        PredictLatency p = new PredictLatency();
        List<String> a = new ArrayList<>(List.of("--root", root));
        a.addAll(List.of(args));
        new CommandLine(p).parseArgs(a.toArray(String[]::new));
        return p;
    }

    /** Predictions of raw HAT-10 feature rows through the pipeline's Spark stages. */
    static double[] sparkPredictions(LatencyPredictor p, double[][] rows) {
        StructType schema = new StructType();
        for (String f : Features.HAT10) {
            schema = schema.add(f, DataTypes.DoubleType);
        }
        schema = schema.add("i", DataTypes.IntegerType);
        List<Row> data = new ArrayList<>();
        for (int r = 0; r < rows.length; r++) {
            Object[] v = new Object[11];
            for (int i = 0; i < 10; i++) {
                v[i] = rows[r][i];
            }
            v[10] = r;
            data.add(RowFactory.create(v));
        }
        Dataset<Row> df = new VectorAssembler().setInputCols(Features.HAT10.toArray(String[]::new))
                .setOutputCol(LatencyPredictor.FEATURES).transform(spark.createDataFrame(data, schema));
        return p.pipeline().transform(df).orderBy("i").select("prediction").as(Encoders.DOUBLE()).collectAsList()
                .stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double[][] rows(JsonNode features) {
        double[][] x = new double[features.size()][10];
        for (int r = 0; r < x.length; r++) {
            for (int i = 0; i < 10; i++) {
                x[r][i] = features.get(r).get(i).asDouble();
            }
        }
        return x;
    }

    @Test
    void importsHatsNetworkAsASparkPipelineThatReproducesTorch() throws Exception {
        String root = dir.resolve("fixture").toString();
        String pt = FIXTURE.resolve("predictor-legacy.pt").toString();
        ImportHatPredictor.Result r = (ImportHatPredictor.Result) importer(root, pt, "--hardware-id", "toy",
                "--lat-norm", "300").run(spark);
        assertArrayEquals(new int[] {10, 8, 8, 8, 8, 1}, r.layers());
        assertNull(r.measured(), "no measurements for this id");
        Layout layout = new Layout(root);
        JsonNode record = JSON.readTree(Files.readString(Path.of(LatencyPredictor.folder(new Fs(spark.sparkContext().hadoopConfiguration()), layout, "toy").importRecord())));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(Path.of(pt)))),
                record.get("sha256").asText());
        assertEquals(pt, record.get("source").asText());
        assertEquals(300.0, record.get("latNorm").asDouble());
        assertEquals(640.0, record.get("featureNorm").get(0).asDouble());

        LatencyPredictor p = LatencyPredictor.load(spark, layout, "toy");
        assertEquals("hat10", p.spec().kind());
        assertEquals("hat-wmt14", p.spec().space().name);
        assertInstanceOf(ElementwiseProduct.class, p.pipeline().stages()[0]);
        assertInstanceOf(MlpRegressionModel.class, p.pipeline().stages()[1]);
        JsonNode expected = JSON.readTree(FIXTURE.resolve("expected.json").toFile());
        double[][] x = rows(expected.get("features"));
        double[] viaSpark = sparkPredictions(p, x);
        for (int i = 0; i < x.length; i++) {
            double torch = expected.get("predicted_ms").get(i).asDouble();
            assertEquals(torch, p.predictFeaturesMs(x[i]), torch * 2e-6, "in-process, row " + i);
            assertEquals(p.predictFeaturesMs(x[i]), viaSpark[i], 0.0, "Spark stages and in-process give the same double, row " + i);
        }
    }

    @Test
    void refusesBadFilesInOneLineNamingFileAndKey() {
        String root = dir.resolve("bad").toString();
        String badShape = FIXTURE.resolve("predictor-bad-shape.pt").toString();
        BadInputException e = assertThrows(BadInputException.class,
                () -> importer(root, badShape, "--hardware-id", "toy", "--lat-norm", "300").run(spark));
        assertEquals(badShape + ": 'predict.weight' has shape [2, 8], expected [1, 8]", e.getMessage());
        String supernet = FIXTURE.resolveSibling("hat-oracle").resolve("supernet-legacy.pt").toString();
        e = assertThrows(BadInputException.class, () -> importer(root, supernet, "--hardware-id", "toy", "--lat-norm", "300").run(spark));
        assertTrue(e.getMessage().startsWith(supernet + ": not a latency predictor's state_dict"), e.getMessage());
        String pt = FIXTURE.resolve("predictor-legacy.pt").toString();
        e = assertThrows(BadInputException.class, () -> importer(root, pt, "--hardware-id", "toy").run(spark));
        assertTrue(e.getMessage().startsWith(pt + ": not a file name of HAT's published predictors"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> importer(root, pt, "--hardware-id", "toy", "--lat-norm", "300",
                "--feature-norm", "1,2,3").run(spark));
        assertTrue(e.getMessage().startsWith("--feature-norm must be 10 positive numbers"), e.getMessage());
        assertFalse(Files.exists(Path.of(root, "latency", "predictor", "toy")), "nothing written");
    }

    @Test
    void importedOverMeasurementsShowsInTheReport() throws Exception {
        String root = dir.resolve("measured").toString();
        Path csv = dir.resolve("hat-format.csv");
        Files.writeString(csv, ImportLatencyTest.hatFormat(DesignSpace.builtin("hat-wmt14"), 30, 5));
        ImportLatency il = new ImportLatency();
        new CommandLine(il).parseArgs("--root", root, "--hardware-id", "toy", csv.toString());
        il.run(spark);
        ImportHatPredictor.Result r = (ImportHatPredictor.Result) importer(root, FIXTURE.resolve("predictor-legacy.pt").toString(),
                "--hardware-id", "toy", "--lat-norm", "300").run(spark);
        assertEquals(30, r.measured().n());
        Layout layout = new Layout(root);
        Row m = spark.read().parquet(LatencyPredictor.folder(new Fs(spark.sparkContext().hadoopConfiguration()), layout, "toy").metrics()).first();
        assertEquals("hat", m.getAs("model"));
        assertEquals(r.measured().rmseMs(), (double) m.getAs("rmse_ms"), 1e-9);
        LatencyPredictor p = LatencyPredictor.load(spark, layout, "toy");
        for (Row pr : spark.read().parquet(LatencyPredictor.folder(new Fs(spark.sparkContext().hadoopConfiguration()), layout, "toy").predictions()).collectAsList()) {
            Row meas = spark.read().parquet(layout.latencyMeasurements()).where(
                    org.apache.spark.sql.functions.col("config_hash").equalTo(pr.<String>getAs("config_hash"))).first();
            double[] f = Features.HAT10.stream().mapToDouble(meas::<Double>getAs).toArray();
            assertEquals(p.predictFeaturesMs(f), (double) pr.getAs("predicted_latency_ms"), 0.0);
        }
        Report rep = new Report();
        rep.run.root = root;
        Report.Result rr = (Report.Result) rep.run(spark);
        assertEquals(1, rr.predictors());
        assertTrue(Files.readString(Path.of(rr.path())).contains("Latency predictor <code>toy</code>"));
    }

    /**
     * HAT's network, imported for a hardware id nobody measured here, gates a sweep on a trained supernet
     * exactly as a fitted predictor does: every candidate's predicted latency is the imported network's, the
     * winners fit their budgets, and the report shows the predictor (its provenance, no measurements).
     */
    @Test
    void importedPredictorGatesASweepAndShowsInTheReport() throws Exception {
        Path small = Path.of(SmallRun.root(spark));
        Path root = dir.resolve("gated");
        PipelineTest.copy(small.resolve("corpus"), root.resolve("corpus"));
        PipelineTest.copy(small.resolve("supernet"), root.resolve("supernet"));
        String space = small.resolveSibling("small-run-tiny.yaml").toString();
        importer(root.toString(), FIXTURE.resolve("predictor-legacy.pt").toString(), "--hardware-id", "pi-nobody-has",
                "--lat-norm", "5000", "--space", space).run(spark);
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root.toString()), "pi-nobody-has");

        Sweep s = new Sweep();
        new CommandLine(s).parseArgs("--root", root.toString(), "--sweep-id", "hat-gated", "--hardware-id", "pi-nobody-has",
                "--budgets", "auto:2", "--population", "6", "--parents", "2", "--mutations", "2", "--crossovers", "2",
                "--generations", "2", "--max-tokens", "512");
        Sweep.Result r = (Sweep.Result) s.run(spark);
        Layout.Sweep sweep = new Layout(root.toString()).sweep("hat-gated");
        List<Row> pop = spark.read().parquet(sweep.population()).collectAsList();
        assertEquals(2 * 2 * 6, pop.size());
        for (Row row : pop) {
            ArchConfig c = ArchConfig.fromJson(row.getAs("config_json"));
            assertEquals(p.predictMs(c), (double) row.getAs("predicted_latency_ms"), 0.0, "the imported network's prediction");
            assertTrue(p.predictMs(c) <= (double) row.<Double>getAs("budget_ms"), "candidates fit their budget: " + row);
        }
        assertEquals(2, r.best().size());
        r.best().forEach((budget, best) -> assertTrue(best.predictedMs() <= budget, budget + ": " + best));

        Report rep = new Report();
        rep.run.root = root.toString();
        Report.Result rr = (Report.Result) rep.run(spark);
        assertEquals(1, rr.sweeps());
        assertEquals(1, rr.predictors(), "an imported predictor without measurements is shown too");
        String html = Files.readString(Path.of(rr.path()));
        assertTrue(html.contains("Latency predictor <code>pi-nobody-has</code>"), "predictor section");
        assertTrue(html.contains("HAT's trained predictor, imported from <code>" + FIXTURE.resolve("predictor-legacy.pt")), "provenance");
    }

    @Test
    void predictLatencyScoresEveryInputOnTheExecutorsAsThePredictorDoesInProcess() throws Exception {
        String root = dir.resolve("predict").toString();
        importer(root, FIXTURE.resolve("predictor-legacy.pt").toString(), "--hardware-id", "toy", "--lat-norm", "300").run(spark);
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), "toy");

        String sampled = dir.resolve("sampled").toString();
        PredictLatency.Result r = (PredictLatency.Result) predictor(root, "--hardware-id", "toy", "--out", sampled,
                "--sample", "300", "--space", "hat-wmt14", "--seed", "4", "--partitions", "3").run(spark);
        assertEquals(300, r.configs());
        Dataset<Row> out = spark.read().parquet(sampled);
        assertEquals(names(Tables.PREDICTED_LATENCY), names(out.schema()));
        List<Row> rows = out.collectAsList();
        for (Row row : rows) {
            ArchConfig c = ArchConfig.fromJson(row.getAs("config_json"));
            assertEquals(c.hash(), row.getAs("config_hash"));
            assertEquals("toy", row.getAs("hardware_id"));
            assertEquals(p.predictMs(c), (double) row.getAs("predicted_latency_ms"), 0.0, "same double as in-process");
            double[] f = Features.hat10(c);
            for (int i = 0; i < 10; i++) {
                assertEquals(f[i], (double) row.getAs(Features.HAT10.get(i)), 0.0);
            }
        }
        assertTrue(rows.stream().map(x -> x.<String>getAs("config_hash")).distinct().count() > 250, "sampled, not repeated");
        // the same seed samples the same configs, however partitioned
        PredictLatency.Result again = (PredictLatency.Result) predictor(root, "--hardware-id", "toy", "--out",
                dir.resolve("sampled2").toString(), "--sample", "300", "--space", "hat-wmt14", "--seed", "4", "--partitions", "1").run(spark);
        assertEquals(predictions(sampled), predictions(again.out()));

        // Parquet with config_json (its own output) and JSON lines give the same numbers
        String fromParquet = dir.resolve("from-parquet").toString();
        predictor(root, "--hardware-id", "toy", "--out", fromParquet, "--configs", sampled).run(spark);
        assertEquals(predictions(sampled), predictions(fromParquet));
        Path jsonl = dir.resolve("configs.jsonl");
        List<ArchConfig> three = Genetics.sampleDistinct(DesignSpace.builtin("hat-wmt14"), 3, 9);
        Files.writeString(jsonl, three.stream().map(ArchConfig::toJson).collect(Collectors.joining("\n", "", "\n\n")));
        String fromJsonl = dir.resolve("from-jsonl").toString();
        predictor(root, "--hardware-id", "toy", "--out", fromJsonl, "--configs", jsonl.toString()).run(spark);
        Map<String, Double> j = predictions(fromJsonl);
        assertEquals(3, j.size());
        for (ArchConfig c : three) {
            assertEquals(p.predictMs(c), j.get(c.hash()), 0.0);
        }

        // a folder of HAT SubTransformer ymls (and a single yml) gives the same numbers
        Path ymls = Files.createDirectories(dir.resolve("ymls"));
        for (int i = 0; i < three.size(); i++) {
            Files.writeString(ymls.resolve("c" + i + ".yml"), three.get(i).toHatYaml());
        }
        String fromYml = dir.resolve("from-yml").toString();
        predictor(root, "--hardware-id", "toy", "--out", fromYml, "--configs", ymls.toString()).run(spark);
        assertEquals(j, predictions(fromYml));
        String oneYml = dir.resolve("from-one-yml").toString();
        predictor(root, "--hardware-id", "toy", "--out", oneYml, "--configs", ymls.resolve("c1.yml").toString()).run(spark);
        assertEquals(Map.of(three.get(1).hash(), j.get(three.get(1).hash())), predictions(oneYml));

        // a sweep's population: its distinct configs
        Layout layout = new Layout(root);
        List<Row> pop = new ArrayList<>();
        for (ArchConfig c : three) {
            pop.add(RowFactory.create(c.toJson()));
            pop.add(RowFactory.create(c.toJson()));
        }
        spark.createDataFrame(pop, new StructType().add("config_json", DataTypes.StringType))
                .write().parquet(layout.sweep("s1").population());
        String fromSweep = dir.resolve("from-sweep").toString();
        PredictLatency.Result s = (PredictLatency.Result) predictor(root, "--hardware-id", "toy", "--out", fromSweep,
                "--sweep", "s1").run(spark);
        assertEquals(3, s.configs());
        assertEquals(j, predictions(fromSweep));

        // a config outside any space is refused in one line naming the input
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, three.get(0).toJson() + "\n{\"encoder_embed_dim\": 512}\n");
        BadInputException e = assertThrows(BadInputException.class, () -> predictor(root, "--hardware-id", "toy", "--out",
                dir.resolve("bad-out").toString(), "--configs", bad.toString()).run(spark));
        assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("bad-out")), "nothing committed");
    }

    static List<String> names(StructType s) {
        List<String> n = new ArrayList<>();
        for (StructField f : s.fields()) {
            n.add(f.name() + ":" + f.dataType().simpleString());
        }
        return n;
    }

    static Map<String, Double> predictions(String path) {
        return spark.read().parquet(path).select("config_hash", "predicted_latency_ms").collectAsList().stream()
                .collect(Collectors.toMap(r -> r.getString(0), r -> r.getDouble(1), (a, b) -> a));
    }

    /** The shared folder, found upwards from the working directory (a worktree sits deeper than main). */
    static Path shared() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("shared").resolve("data").resolve("hat-latency").resolve("predictors");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    /** HAT's published Xeon and Raspberry Pi predictors reproduce PyTorch's numbers (expected-predictions.json). */
    @Test
    void reproducesHatsPublishedPredictors() throws Exception {
        Path predictors = shared();
        Assumptions.assumeTrue(predictors != null && Files.exists(predictors.resolve("expected-predictions.json")),
                "skipped: no shared/data/hat-latency/predictors/ (HAT's .pt files are never copied into the project)");
        JsonNode expected = JSON.readTree(predictors.resolve("expected-predictions.json").toFile());
        double worst = 0;
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) expected::fields) {
            String root = dir.resolve("hat-" + e.getKey()).toString();
            String hw = e.getKey().replace('_', '-');
            importer(root, predictors.resolve(e.getKey() + ".pt").toString(), "--hardware-id", hw).run(spark);
            LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), hw);
            List<String> lines = Files.readAllLines(predictors.resolveSibling(e.getValue().get("csv").asText()));
            JsonNode ms = e.getValue().get("predicted_ms");
            double[][] x = new double[ms.size()][];
            for (int i = 0; i < ms.size(); i++) {
                x[i] = java.util.Arrays.stream(lines.get(i + 1).split(",")).limit(10).mapToDouble(Double::parseDouble).toArray();
            }
            double[] viaSpark = sparkPredictions(p, x);
            for (int i = 0; i < ms.size(); i++) {
                double rel = Math.abs(p.predictFeaturesMs(x[i]) - ms.get(i).asDouble()) / ms.get(i).asDouble();
                worst = Math.max(worst, rel);
                assertEquals(p.predictFeaturesMs(x[i]), viaSpark[i], 0.0);
            }
        }
        System.out.printf("HAT's published predictors reproduced: max relative difference %.3g%n", worst);
        assertTrue(worst < 2e-6, "float32 precision, got " + worst);
    }
}
