package dev.hatspark.jobs.bench;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.latency.ImportHatPredictor;
import dev.hatspark.jobs.ml.MlpRegressor;
import dev.hatspark.latency.Accuracy;
import dev.hatspark.latency.Features;
import dev.hatspark.latency.HatPredictorWeights;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.regression.GBTRegressor;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.log;

/**
 * bench-predictor (a benchmark, not a test): our latency predictor against HAT's published figures
 * on HAT's own measured latency datasets ({@code ../shared/data/hat-latency/*.csv}, 2,000 sampled
 * SubTransformers each, timed on a Xeon and on a Raspberry Pi 4).
 *
 * <p>HAT's protocol, once per seed: shuffle the rows with that seed, split 80/10/10 into
 * train/valid/test; the label is {@code latency_mean_encoder + latency_mean_decoder} (ms). Models,
 * all fitted on train and scored on test: {@code mlp}, our predictor (StandardScaler then
 * {@link MlpRegressor}); {@code linear}, least squares on HAT's 10 features (HAT's baseline);
 * with derived features also {@code linear+derived}, least squares on the MLP's own inputs, so
 * the table shows what the features alone buy; and optionally {@code gbt}. The valid split is
 * only reported (hyper-parameters were chosen on it), never used for the test figures.
 *
 * <p>Derived features ({@code --features derived}), computed from HAT's 10 only: layer count ×
 * per-layer average, i.e. whole-model totals, which is what the cost of a layer stack scales with:
 * {@code el·ee·ef} (encoder FFN work), {@code dl·de·df} (decoder FFN work), {@code dl·de²}
 * (decoder projections), {@code dl·dh}, {@code dl·dx} (total decoder self- and cross-attention
 * heads), {@code dl·da} (total encoder layers attended to by the decoder).
 *
 * <p>{@code hat}: HAT's own trained predictor of the file's hardware ({@code <hat-predictors>/<stem>.pt},
 * e.g. {@code wmt14ende_cpu_xeon.pt} beside {@code wmt14ende_cpu_xeon_all.csv}), imported as
 * import-hat-predictor does and scored as it is, never refitted. HAT trained it on a random 80 % of
 * the same file, so most of any test split here was its training data: its figures are optimistic.
 *
 * <p>The CSVs are HAT's and are never copied into the project: when the folder is absent the
 * command says so on one line and ends normally.
 */
@Command(name = "bench-predictor", mixinStandardHelpOptions = true,
        description = "Benchmark: our latency predictor vs HAT's published figures on HAT's measured latency datasets.")
public final class PredictorBenchmark implements Job<PredictorBenchmark.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(PredictorBenchmark.class);

    static final String LATENCY_ENCODER = "latency_mean_encoder";
    static final String LATENCY_DECODER = "latency_mean_decoder";

    /** Names and formulas of the derived features, over HAT's 10 columns. */
    static final Map<String, String> DERIVED = derived();

    private static Map<String, String> derived() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("enc_ffn_total", "encoder_layer_num * encoder_embed_dim * encoder_ffn_embed_dim_avg");
        d.put("dec_ffn_total", "decoder_layer_num * decoder_embed_dim * decoder_ffn_embed_dim_avg");
        d.put("dec_proj_total", "decoder_layer_num * decoder_embed_dim * decoder_embed_dim");
        d.put("dec_self_heads_total", "decoder_layer_num * decoder_self_attention_heads_avg");
        d.put("dec_ende_heads_total", "decoder_layer_num * decoder_ende_attention_heads_avg");
        d.put("dec_ende_layers_total", "decoder_layer_num * decoder_arbitrary_ende_attn_avg");
        return Collections.unmodifiableMap(d);
    }

    @Option(names = "--data-dir", description = "Folder of HAT's latency CSVs, relative to the working directory. Default: ${DEFAULT-VALUE}")
    public String dataDir = "../shared/data/hat-latency";

    @Option(names = "--hat-predictors", description = "Folder of HAT's trained predictors (<csv stem without _all>.pt);"
            + " default: <data-dir>/predictors; those absent are left out")
    public String hatPredictors;

    @Option(names = "--seeds", description = "Seeded 80/10/10 splits per file (seeds 0..n-1). Default: ${DEFAULT-VALUE}")
    public int seeds = 3;

    @Option(names = "--hidden", split = ",", description = "MLP hidden layer widths. Default: 32")
    public int[] hidden = {32};

    @Option(names = "--max-iter", description = "MLP L-BFGS iterations. Default: ${DEFAULT-VALUE}")
    public int maxIter = 100;

    @Option(names = "--reg", description = "MLP L2 regularisation. Default: ${DEFAULT-VALUE}")
    public double reg = 1e-2;

    @Option(names = "--features", description = "MLP inputs: hat10 (HAT's 10) or derived (those plus 6 layer-total products). Default: ${DEFAULT-VALUE}")
    public String features = "derived";

    @Option(names = "--log-label", negatable = true, description = "MLP predicts log latency and exponentiates. Default: ${DEFAULT-VALUE}")
    public boolean logLabel = false;

    @Option(names = "--gbt-iter", description = "Trees of the gradient-boosted baseline; 0 leaves it out. Default: ${DEFAULT-VALUE}")
    public int gbtIter = 50;

    @Override
    public String name() {
        return "bench-predictor";
    }

    /** Mean and range over seeds of one figure. */
    public record Stat(double mean, double min, double max) {
        static Stat of(List<Accuracy> runs, ToDoubleFunction<Accuracy> f) {
            double[] v = runs.stream().mapToDouble(f).toArray();
            return new Stat(Arrays.stream(v).average().orElse(Double.NaN),
                    Arrays.stream(v).min().orElse(Double.NaN), Arrays.stream(v).max().orElse(Double.NaN));
        }
    }

    /** Test figures of one model over the seeds; relative figures in percent. */
    public record ModelFigures(Stat rmseMs, Stat rmsePct, Stat mapdPct, Stat kendallTau, Stat validRmsePct) {
    }

    /** One CSV: rows, mean latency, figures per model (mlp, linear, ...), HAT's published range (or null). */
    public record FileResult(String file, long rows, int testRows, double meanLatencyMs, Map<String, ModelFigures> models,
                             String hatRmsePct, String hatKendallTau) {
        public ModelFigures mlp() {
            return models.get("mlp");
        }
    }

    /** What the command returns: per file and model the figures, or why it was skipped. */
    public record Result(String skipped, List<FileResult> files) {
        public boolean isSkipped() {
            return skipped != null;
        }

        @Override
        public String toString() {
            if (skipped != null) {
                return "skipped: " + skipped;
            }
            return files.stream().map(f -> f.file() + ": " + f.models().entrySet().stream()
                            .map(e -> String.format(Locale.ROOT, "%s %.2f %%", e.getKey(), e.getValue().rmsePct().mean()))
                            .collect(Collectors.joining(", ")) + " test RMSE/mean")
                    .collect(Collectors.joining("; "));
        }
    }

    @Override
    public Result run(SparkSession spark) {
        if (seeds < 1) {
            throw new BadInputException("--seeds must be at least 1, got " + seeds);
        }
        if (!features.equals("hat10") && !features.equals("derived")) {
            throw new BadInputException("--features must be hat10 or derived, got '" + features + "'");
        }
        Path dir = Path.of(dataDir).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            return new Result("no HAT latency data at " + dir + " (set --data-dir; see shared/data/hat-latency/README.md)", List.of());
        }
        List<Path> csvs;
        try (Stream<Path> s = Files.list(dir)) {
            csvs = s.filter(p -> p.getFileName().toString().endsWith(".csv")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (csvs.isEmpty()) {
            return new Result("no *.csv in " + dir, List.of());
        }
        List<FileResult> out = new ArrayList<>();
        for (Path csv : csvs) {
            FileResult r = benchFile(spark, csv);
            System.out.print(table(r));
            System.out.flush();
            out.add(r);
        }
        return new Result(null, out);
    }

    private FileResult benchFile(SparkSession spark, Path csv) {
        String file = csv.getFileName().toString();
        Dataset<Row> raw = spark.read().option("header", "true").csv(csv.toUri().toString());
        List<String> needed = new ArrayList<>(Features.HAT10);
        needed.add(LATENCY_ENCODER);
        needed.add(LATENCY_DECODER);
        List<String> missing = needed.stream().filter(c -> !Arrays.asList(raw.columns()).contains(c)).toList();
        if (!missing.isEmpty()) {
            throw new BadInputException(csv + " lacks HAT's columns " + missing);
        }
        Dataset<Row> data = raw.select(needed.stream().map(c -> col(c).cast("double").as(c)).toArray(Column[]::new));
        String anyNull = needed.stream().map(c -> c + " is null").collect(Collectors.joining(" or "));
        long bad = data.where(anyNull).count();
        if (bad > 0) {
            throw new BadInputException(csv + ": " + bad + " rows with an empty or non-numeric value");
        }
        data = data.withColumn("label", col(LATENCY_ENCODER).plus(col(LATENCY_DECODER)));
        if (data.where("label <= 0").count() > 0) {
            throw new BadInputException(csv + ": latencies must be positive");
        }
        for (Map.Entry<String, String> d : DERIVED.entrySet()) {
            data = data.withColumn(d.getKey(), org.apache.spark.sql.functions.expr(d.getValue()));
        }
        data = new VectorAssembler().setInputCols(Features.HAT10.toArray(String[]::new)).setOutputCol("hat10").transform(data);
        List<String> mlpInputs = new ArrayList<>(Features.HAT10);
        if (features.equals("derived")) {
            mlpInputs.addAll(DERIVED.keySet());
        }
        data = new VectorAssembler().setInputCols(mlpInputs.toArray(String[]::new)).setOutputCol("mlp_features").transform(data)
                .withColumn("log_label", log(col("label")))
                .select("hat10", "mlp_features", "label", "log_label");
        // HAT's protocol shuffles the whole file: 2,000 rows, so the driver shuffles them exactly
        List<Row> rows = data.collectAsList();
        int n = rows.size();
        int nTrain = (int) Math.round(0.8 * n), nValid = (int) Math.round(0.1 * n);
        if (n < 20) {
            throw new BadInputException(csv + " has " + n + " rows; the 80/10/10 protocol needs at least 20");
        }
        double meanLatency = rows.stream().mapToDouble(r -> r.getDouble(2)).average().orElseThrow();
        Map<String, List<Accuracy>> test = new LinkedHashMap<>();
        Map<String, List<Accuracy>> valid = new LinkedHashMap<>();
        PipelineModel hatTrained = hatPredictor(spark, csv);
        for (int seed = 0; seed < seeds; seed++) {
            List<Row> shuffled = new ArrayList<>(rows);
            Collections.shuffle(shuffled, new Random(seed));
            Dataset<Row> train = spark.createDataFrame(shuffled.subList(0, nTrain), data.schema()).cache();
            Dataset<Row> va = spark.createDataFrame(shuffled.subList(nTrain, nTrain + nValid), data.schema()).cache();
            Dataset<Row> te = spark.createDataFrame(shuffled.subList(nTrain + nValid, n), data.schema()).cache();
            for (Map.Entry<String, Pipeline> m : models(seed).entrySet()) {
                long t0 = System.nanoTime();
                PipelineModel fitted = m.getValue().fit(train);
                Accuracy v = accuracy(fitted, va, m.getKey());
                Accuracy t = accuracy(fitted, te, m.getKey());
                valid.computeIfAbsent(m.getKey(), k -> new ArrayList<>()).add(v);
                test.computeIfAbsent(m.getKey(), k -> new ArrayList<>()).add(t);
                LOG.info("bench-predictor {} seed {} {}: valid {} %, test {} % RMSE/mean, τ {} ({} s)", file, seed, m.getKey(),
                        fmt(100 * v.rmseRel(), 2), fmt(100 * t.rmseRel(), 2), fmt(t.kendallTau(), 3),
                        fmt((System.nanoTime() - t0) / 1e9, 1));
            }
            if (hatTrained != null) {
                valid.computeIfAbsent("hat", k -> new ArrayList<>()).add(accuracy(hatTrained, va, "hat"));
                test.computeIfAbsent("hat", k -> new ArrayList<>()).add(accuracy(hatTrained, te, "hat"));
            }
            train.unpersist();
            va.unpersist();
            te.unpersist();
        }
        Map<String, ModelFigures> figures = new LinkedHashMap<>();
        for (String m : test.keySet()) {
            List<Accuracy> a = test.get(m);
            figures.put(m, new ModelFigures(Stat.of(a, Accuracy::rmseMs), Stat.of(a, x -> 100 * x.rmseRel()),
                    Stat.of(a, x -> 100 * x.mapd()), Stat.of(a, Accuracy::kendallTau),
                    Stat.of(valid.get(m), x -> 100 * x.rmseRel())));
        }
        String[] hat = hatFigures(file);
        return new FileResult(file, n, n - nTrain - nValid, meanLatency, figures, hat[0], hat[1]);
    }

    /** HAT's trained predictor of this CSV's hardware as a pipeline reading "hat10", or null when its file is absent. */
    private PipelineModel hatPredictor(SparkSession spark, Path csv) {
        Path dir = hatPredictors != null ? Path.of(hatPredictors) : csv.resolveSibling("predictors");
        String stem = csv.getFileName().toString().replaceFirst("(_all)?\\.csv$", "");
        Path pt = dir.resolve(stem + ".pt");
        Double latNorm = HatPredictorWeights.publishedLatNorm(stem);
        if (!Files.isRegularFile(pt) || latNorm == null) {
            LOG.info("bench-predictor {}: no HAT predictor {} of a known hardware: 'hat' left out", csv.getFileName(), pt);
            return null;
        }
        try {
            HatPredictorWeights w = HatPredictorWeights.read(Files.readAllBytes(pt), pt.toString());
            double[] norm = HatPredictorWeights.FEATURE_NORM.stream().mapToDouble(Double::doubleValue).toArray();
            return ImportHatPredictor.pipeline(spark, w, norm, latNorm, "hat10");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The models of one seed, each a Pipeline reading "hat10" or "mlp_features" and writing "prediction". */
    private Map<String, Pipeline> models(int seed) {
        Map<String, Pipeline> m = new LinkedHashMap<>();
        m.put("mlp", scaled("mlp_features", new MlpRegressor().setFeaturesCol("scaled")
                .setLabelCol(logLabel ? "log_label" : "label")
                .setHiddenLayers(hidden).setMaxIter(maxIter).setRegParam(reg).setSeed(seed)));
        m.put("linear", scaled("hat10", new LinearRegression().setFeaturesCol("scaled").setRegParam(0.0)));
        if (features.equals("derived")) {
            m.put("linear+derived", scaled("mlp_features", new LinearRegression().setFeaturesCol("scaled").setRegParam(0.0)));
        }
        if (gbtIter > 0) {
            m.put("gbt", scaled("hat10", new GBTRegressor().setFeaturesCol("scaled").setMaxIter(gbtIter).setMaxDepth(5).setSeed(seed)));
        }
        return m;
    }

    private static Pipeline scaled(String input, PipelineStage regressor) {
        return new Pipeline().setStages(new PipelineStage[] {
                new StandardScaler().setInputCol(input).setOutputCol("scaled").setWithMean(true).setWithStd(true),
                regressor});
    }

    private Accuracy accuracy(PipelineModel model, Dataset<Row> split, String name) {
        Dataset<Row> p = model.transform(split);
        Column prediction = name.equals("mlp") && logLabel ? exp(col("prediction")) : col("prediction");
        List<Row> r = p.select(col("label"), prediction).collectAsList();
        return Accuracy.of(r.stream().mapToDouble(x -> x.getDouble(0)).toArray(),
                r.stream().mapToDouble(x -> x.getDouble(1)).toArray());
    }

    /** HAT's figures from shared/data/hat-latency/README.md (their recipe re-run, 3 seeded splits). */
    static String[] hatFigures(String file) {
        if (file.contains("xeon")) {
            return new String[] {"5.8–6.6", "0.88–0.89"};
        } else if (file.contains("raspberrypi")) {
            return new String[] {"10.4–11.3", "0.87–0.90"};
        }
        return new String[] {null, null};
    }

    String table(FileResult r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%n%s: %d rows, mean latency %.1f ms; test split (%d rows), mean (min–max) over %d seeds%n",
                r.file(), r.rows(), r.meanLatencyMs(), r.testRows(), seeds));
        b.append(String.format(Locale.ROOT, "  mlp = StandardScaler → MlpRegressor %s, max-iter %d, reg %s, features %s%s%n",
                Arrays.toString(hidden), maxIter, reg, features, logLabel ? ", log label" : ""));
        String head = String.format(Locale.ROOT, "  %-16s %-24s %-24s %-24s %-24s %s%n", "model", "RMSE ms", "RMSE/mean %",
                "MAPD %", "Kendall τ", "valid RMSE/mean %");
        b.append(head);
        for (Map.Entry<String, ModelFigures> e : r.models().entrySet()) {
            ModelFigures f = e.getValue();
            b.append(String.format(Locale.ROOT, "  %-16s %-24s %-24s %-24s %-24s %s%n", e.getKey(), cell(f.rmseMs(), 2),
                    cell(f.rmsePct(), 2), cell(f.mapdPct(), 2), cell(f.kendallTau(), 3), cell(f.validRmsePct(), 2)));
        }
        if (r.models().containsKey("hat")) {
            b.append("  hat = HAT's trained predictor (.pt, imported, not refitted); HAT trained it on 80 % of this file, so it has seen most test rows\n");
        }
        if (r.hatRmsePct() != null) {
            b.append(String.format(Locale.ROOT, "  %-16s %-24s %-24s %-24s %-24s %s%n", "HAT (published)", "—",
                    r.hatRmsePct(), "—", r.hatKendallTau(), "—"));
        }
        return b.toString();
    }

    private static String cell(Stat s, int digits) {
        return fmt(s.mean(), digits) + " (" + fmt(s.min(), digits) + "–" + fmt(s.max(), digits) + ")";
    }

    private static String fmt(double v, int digits) {
        return String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
