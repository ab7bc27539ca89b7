package dev.hatspark.jobs.latency;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.ml.MlpRegressionModel;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.latency.Accuracy;
import dev.hatspark.latency.FeatureSpec;
import dev.hatspark.latency.Features;
import dev.hatspark.latency.HatPredictorWeights;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.ElementwiseProduct;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * import-hat-predictor: one of HAT's trained latency predictors ({@code latency_dataset/predictors/*.pt},
 * a state_dict of its 10→400→400→400→400→1 ReLU network) as this run root's predictor of a hardware
 * id: a Spark ML {@link PipelineModel} of HAT's feature normalisation (an {@link ElementwiseProduct}
 * by 1 / feature norm) and an {@link MlpRegressionModel} holding HAT's weights, its output times the
 * latency norm; {@code features.json} says hat10 and names the design space. Sweeps, evaluate and
 * predict-latency load it like a fitted one. When this hardware id has measurements, the imported
 * network's predictions of them are written as its metrics and predictions (split {@code all}), so
 * the report shows it next to the measurements.
 */
@Command(name = "import-hat-predictor", mixinStandardHelpOptions = true,
        description = "Import one of HAT's trained latency predictors (.pt state_dict) as the predictor of a hardware id.")
public final class ImportHatPredictor implements Job<ImportHatPredictor.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(ImportHatPredictor.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    public RunOptions run = new RunOptions();

    @Parameters(index = "0", paramLabel = "FILE", description = "HAT's predictor .pt (any Hadoop path)")
    public String file;

    @Option(names = "--hardware-id", required = true, description = "Hardware id to import it as (latency/predictor/<id>/)")
    public String hardwareId;

    @Option(names = "--feature-norm", split = ",", description = "HAT's feature norm (10 divisors). Default: 640,6,2048,6,640,6,2048,6,6,2 (HAT's)")
    public double[] featureNorm;

    @Option(names = "--lat-norm", description = "HAT's latency norm (output × norm = ms). Default: HAT's for the file's"
            + " hardware: xeon 300, raspberrypi 5000, titanxp 200; required for any other file name")
    public Double latNorm;

    @Option(names = "--space", description = "Design space the predictor's latencies were measured in (name or YAML). Default: ${DEFAULT-VALUE}")
    public String space = "hat-wmt14";

    @Override
    public String name() {
        return "import-hat-predictor";
    }

    public record Result(String hardwareId, String dir, String sha256, int[] layers, double latNorm, Accuracy measured) {
        @Override
        public String toString() {
            return hardwareId + " <- " + dir + " (sha256 " + sha256 + ", layers " + java.util.Arrays.toString(layers)
                    + ", lat norm " + latNorm + (measured == null ? "" : String.format(java.util.Locale.ROOT,
                    "; on this id's %d measurements RMSE %.2f ms = %.2f %%, Kendall τ %.3f", measured.n(), measured.rmseMs(),
                    100 * measured.rmseRel(), measured.kendallTau())) + ")";
        }
    }

    @Override
    public Result run(SparkSession spark) throws IOException {
        Hardware.checkId(hardwareId);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        if (!fs.exists(file)) {
            throw new BadInputException(file + ": no such predictor file");
        }
        byte[] bytes = fs.read(file);
        HatPredictorWeights weights = HatPredictorWeights.read(bytes, file);
        if (weights.layers()[0] != Features.HAT10.size()) {
            throw new BadInputException(file + ": 'first_layer.weight' takes " + weights.layers()[0]
                    + " features, expected HAT's " + Features.HAT10.size());
        }
        double[] norm = featureNorm != null ? featureNorm
                : HatPredictorWeights.FEATURE_NORM.stream().mapToDouble(Double::doubleValue).toArray();
        if (norm.length != Features.HAT10.size() || java.util.Arrays.stream(norm).anyMatch(v -> !(v > 0))) {
            throw new BadInputException("--feature-norm must be " + Features.HAT10.size() + " positive numbers, got "
                    + java.util.Arrays.toString(norm));
        }
        String fileName = new org.apache.hadoop.fs.Path(file).getName();
        double lat = latNorm != null ? latNorm : java.util.Optional.ofNullable(HatPredictorWeights.publishedLatNorm(fileName))
                .orElseThrow(() -> new BadInputException(file + ": not a file name of HAT's published predictors (xeon,"
                        + " raspberrypi, titanxp): give --lat-norm (the lat-norm it was trained with)"));
        if (!(lat > 0)) {
            throw new BadInputException("--lat-norm must be positive, got " + lat);
        }
        DesignSpace ds = Spaces.given(fs, space);
        PipelineModel pipeline = pipeline(spark, weights, norm, lat, LatencyPredictor.FEATURES);

        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("source", file);
        provenance.put("sha256", sha256(bytes));
        provenance.put("bytes", bytes.length);
        provenance.put("format", "HAT latency_predictor.py state_dict");
        provenance.put("layers", weights.layers());
        provenance.put("featureNorm", norm);
        provenance.put("latNorm", lat);
        provenance.put("space", ds.name);
        provenance.put("hardwareId", hardwareId);
        provenance.put("importedAt", Instant.now().toString());

        // the whole folder is written as a new version beside the old one, then committed in one step (as fit-predictor does)
        Layout.Predictor target = layout.predictor(hardwareId);
        Accuracy[] measuredBox = new Accuracy[1];
        fs.commitVersion(target.dir(), folder -> {
            Layout.Predictor tmp = target.at(folder);
            try {
                pipeline.write().overwrite().save(tmp.model());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            fs.writeText(tmp.features(), FeatureSpec.hat10(ds.yaml()).toJson());
            try {
                fs.writeText(tmp.importRecord(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(provenance));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            measuredBox[0] = scoreMeasurements(spark, fs, layout, pipeline, tmp);
        });
        Accuracy measured = measuredBox[0];
        String dir = LatencyPredictor.folder(fs, layout, hardwareId).dir();
        LOG.info("import-hat-predictor: {} (sha256 {}, layers {}, lat norm {}) as {}{}", file, provenance.get("sha256"),
                java.util.Arrays.toString(weights.layers()), lat, dir, measured == null ? ""
                        : String.format(" | on this id's %d measurements: RMSE %.2f ms (%.2f %%), Kendall τ %.3f",
                        measured.n(), measured.rmseMs(), 100 * measured.rmseRel(), measured.kendallTau()));
        return new Result(hardwareId, dir, (String) provenance.get("sha256"), weights.layers(), lat, measured);
    }

    /**
     * HAT's predictor as a Spark ML pipeline reading the vector column {@code inputCol} (HAT's 10
     * features, unnormalised) and adding {@code prediction} in ms.
     */
    public static PipelineModel pipeline(SparkSession spark, HatPredictorWeights w, double[] featureNorm, double latNorm,
                                         String inputCol) {
        double[] inverse = new double[featureNorm.length];
        for (int i = 0; i < inverse.length; i++) {
            inverse[i] = 1.0 / featureNorm[i];
        }
        ElementwiseProduct scale = new ElementwiseProduct().setScalingVec(Vectors.dense(inverse))
                .setInputCol(inputCol).setOutputCol("scaled");
        MlpRegressionModel net = MlpRegressionModel.of("hat_latency_predictor", w.layers(), w.weights(), 0.0, latNorm)
                .setFeaturesCol("scaled");
        // a Pipeline of transformers only: fit() just collects them (nothing is trained or read)
        Dataset<Row> none = spark.createDataFrame(List.of(), new StructType().add(inputCol, new VectorUDT()));
        return new Pipeline().setStages(new PipelineStage[] {scale, net}).fit(none);
    }

    /** The imported network on this hardware id's measurements, if any: metrics and predictions, split "all". */
    private Accuracy scoreMeasurements(SparkSession spark, Fs fs, Layout layout, PipelineModel pipeline, Layout.Predictor out) {
        if (!fs.exists(layout.latencyMeasurements())) {
            return null;
        }
        Dataset<Row> rows = spark.read().parquet(layout.latencyMeasurements()).where(col("hardware_id").equalTo(hardwareId));
        Dataset<Row> scored = pipeline.transform(new VectorAssembler().setInputCols(Features.HAT10.toArray(String[]::new))
                .setOutputCol(LatencyPredictor.FEATURES).transform(rows))
                .select(lit(hardwareId).as("hardware_id"), col("config_hash"), lit("all").as("split"),
                        col("latency_ms").as("measured_latency_ms"), col("prediction").as("predicted_latency_ms"));
        List<Row> all = scored.collectAsList();
        if (all.isEmpty()) {
            return null;
        }
        Accuracy a = Accuracy.of(all.stream().mapToDouble(r -> r.getDouble(3)).toArray(),
                all.stream().mapToDouble(r -> r.getDouble(4)).toArray());
        // the labels' retest error, as fit-predictor reports it (null for imported CSVs, which have no latency/runs)
        Double labelNoise = LatencyRuns.labelNoise(spark, fs, layout, hardwareId);
        List<Row> metrics = new ArrayList<>();
        metrics.add(RowFactory.create("hat", "all", a.rmseMs(), a.rmseRel(), a.mapd(), a.r2(), a.kendallTau(), a.n(),
                "hat10", hardwareId, "HAT's trained predictor imported from " + file + "; scored on every measurement"
                        + " of this id, which may include its training data", labelNoise,
                LatencyRuns.aboveNoise(a.rmseRel(), labelNoise), null));
        spark.createDataFrame(metrics, Tables.PREDICTOR_METRICS).coalesce(1).write().parquet(out.metrics());
        spark.createDataFrame(all, Tables.PREDICTOR_PREDICTIONS).coalesce(1).write().parquet(out.predictions());
        return a;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
