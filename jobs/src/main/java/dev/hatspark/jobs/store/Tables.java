package dev.hatspark.jobs.store;

import dev.hatspark.latency.Measurement;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.TimestampType;

/**
 * The columns of every Parquet table of a run root (README, "Output tables"), one declaration each;
 * where each table lives is {@link Layout}'s. Jobs build rows in these columns' order.
 */
public final class Tables {
    private Tables() {
    }

    private static final DataType INTS = DataTypes.createArrayType(IntegerType, false);
    private static final DataType STRINGS = DataTypes.createArrayType(StringType, false);
    private static final DataType DOUBLES = DataTypes.createArrayType(DoubleType, false);

    /** corpus/pairs, partitioned by nothing, sorted by split and ref. */
    public static final StructType CORPUS_PAIRS = new StructType()
            .add("split", StringType, false)
            .add("ref", StringType, false)
            .add("src_ids", INTS, false)
            .add("tgt_ids", INTS, false);

    /** supernet/metrics: the SuperTransformer's training curve. */
    public static final StructType SUPERNET_METRICS = new StructType()
            .add("step", LongType, false)
            .add("train_loss", DoubleType, true)
            .add("grad_norm", DoubleType, true)
            .add("valid_loss_largest", DoubleType, false)
            .add("valid_loss_smallest", DoubleType, false)
            .add("tokens_per_s", DoubleType, false);

    /** evaluations/: the validation-loss cache of every job. */
    public static final StructType EVALUATIONS = new StructType()
            .add("config_hash", StringType, false)
            .add("checkpoint_id", StringType, false)
            .add("valid_set_id", StringType, false)
            .add("val_loss", DoubleType, false)
            .add("config_json", StringType, false)
            .add("eval_ms", DoubleType, false)
            .add("fidelity", StringType, true)          // full or subset (racing); null in rows written before racing
            .add("target_tokens", LongType, true)       // target tokens scored by the evaluation
            .add("sentence_nll", DOUBLES, true)         // subset rows: summed NLL per sentence, for paired racing
            .add("evaluated_by", StringType, true);     // the job that evaluated it (a sweep: its run and generation)

    /** latency/measurements/, partitioned by hardware_id: {@link Measurement#COLUMNS}. */
    public static final StructType LATENCY_MEASUREMENTS = measurements();

    /**
     * latency/runs/: the noise of each committed chunk of a measuring run (measure-latency) or of an
     * evaluate's timing, one row each: retest error between passes (normalized, raw, per statistic),
     * the reference's latency, anchor and drift, and the mean disturbance.
     */
    public static final StructType LATENCY_RUNS = new StructType()
            .add("run_id", StringType, false)
            .add("job", StringType, false)
            .add("chunk", IntegerType, false)
            .add("hardware_id", StringType, false)
            .add("space", StringType, false)
            .add("vocab_size", IntegerType, false)
            .add("src_len", IntegerType, false)
            .add("beam", IntegerType, false)
            .add("decoder_steps", IntegerType, false)
            .add("warmup", IntegerType, false)
            .add("runs", IntegerType, false)
            .add("passes", IntegerType, false)
            .add("reference_every", IntegerType, false)
            .add("statistic", StringType, false)
            .add("reference_hash", StringType, true)
            .add("configs", IntegerType, false)
            .add("reference_ms", DoubleType, true)
            .add("reference_anchor_ms", DoubleType, true)
            .add("retest_error", DoubleType, true)
            .add("retest_error_raw", DoubleType, true)
            .add("retest_error_trimmed_mean", DoubleType, true)
            .add("retest_error_median", DoubleType, true)
            .add("retest_error_p25", DoubleType, true)
            .add("reference_drift", DoubleType, true)
            .add("cpu_steal", DoubleType, true)
            .add("load_avg", DoubleType, true)
            .add("finished_at", TimestampType, false)
            .add("paired", BooleanType, true)             // each config run paired with a reference run; null: before pairing
            .add("clock", StringType, true);              // wall or cpu (TimingClock); null: wall, before the choice existed

    /**
     * latency/measurements/ as {@link #LATENCY_MEASUREMENTS}, whatever its files' age: columns
     * added since a file was written read as null (Parquet takes the schema of one file otherwise).
     */
    public static org.apache.spark.sql.Dataset<Row> readMeasurements(org.apache.spark.sql.SparkSession spark, String path) {
        return spark.read().schema(LATENCY_MEASUREMENTS).parquet(path);
    }

    /** latency/predictor/&lt;hw&gt;/metrics: accuracy of each fitted model on each split. */
    public static final StructType PREDICTOR_METRICS = new StructType()
            .add("model", StringType, false)
            .add("split", StringType, false)
            .add("rmse_ms", DoubleType, false)
            .add("rmse_rel", DoubleType, false)
            .add("mapd", DoubleType, false)
            .add("r2", DoubleType, true)
            .add("kendall_tau", DoubleType, true)
            .add("n", LongType, false)
            .add("features", StringType, false)
            .add("hardware_id", StringType, false)
            .add("note", StringType, true)
            .add("label_noise_rel", DoubleType, true)
            .add("above_noise", BooleanType, true)
            .add("hyperparameters", StringType, true);

    /** latency/predictor/&lt;hw&gt;/predictions: the MLP's prediction of every measured config. */
    public static final StructType PREDICTOR_PREDICTIONS = new StructType()
            .add("hardware_id", StringType, false)
            .add("config_hash", StringType, false)
            .add("split", StringType, false)
            .add("measured_latency_ms", DoubleType, false)
            .add("predicted_latency_ms", DoubleType, false);

    /**
     * predict-latency's output (a path of the user's, not of the run root): one row per scored config,
     * then HAT's 10 features ({@code Features.HAT10}) as double columns.
     */
    public static final StructType PREDICTED_LATENCY = predictedLatency();

    private static StructType predictedLatency() {
        StructType s = new StructType()
                .add("config_hash", StringType, false)
                .add("config_json", StringType, false)
                .add("hardware_id", StringType, false)
                .add("predicted_latency_ms", DoubleType, false);
        for (String f : dev.hatspark.latency.Features.HAT10) {
            s = s.add(f, DoubleType, false);
        }
        return s;
    }

    /** sweeps/&lt;id&gt;/population, partitioned by generation. */
    public static final StructType SWEEP_POPULATION = new StructType()
            .add("sweep_id", StringType, false)
            .add("budget_ms", DoubleType, false)
            .add("generation", IntegerType, false)
            .add("rank", IntegerType, false)
            .add("config_hash", StringType, false)
            .add("config_json", StringType, false)
            .add("encoder_embed_dim", IntegerType, false)
            .add("encoder_layer_num", IntegerType, false)
            .add("decoder_embed_dim", IntegerType, false)
            .add("decoder_layer_num", IntegerType, false)
            .add("decoder_ffn_embed_dim_avg", DoubleType, false)
            .add("predicted_latency_ms", DoubleType, false)
            .add("val_loss", DoubleType, true)          // full-set loss; null for a candidate that lost its race
            .add("origin", StringType, false)
            .add("parent_hashes", STRINGS, false)
            .add("cache_hit", BooleanType, false)
            .add("fidelity", StringType, false)         // full (val_loss holds its full-set loss) or subset
            .add("subset_loss", DoubleType, true)       // racing subset loss; null when not raced
            .add("subset_margin", DoubleType, true)     // at the deciding stage: loss minus the reference's, minus k·SE
            .add("subset_tokens", LongType, false)      // target tokens this generation's racing stages scored for this config
            .add("full_tokens", LongType, false)        // target tokens this generation's full evaluation scored for it
            .add("racing_stage", IntegerType, true)     // deepest racing stage (1-based) the sweep has scored it on so far
            .add("stage_tokens", LongType, true);       // target tokens of all the sentences of that stage

    /** sweeps/&lt;id&gt;/best: each budget's winner so far. */
    public static final StructType SWEEP_BEST = new StructType()
            .add("sweep_id", StringType, false)
            .add("budget_ms", DoubleType, false)
            .add("config_hash", StringType, false)
            .add("config_json", StringType, false)
            .add("predicted_latency_ms", DoubleType, false)
            .add("val_loss", DoubleType, false)
            .add("found_in_generation", IntegerType, false);

    /** sweeps/&lt;id&gt;/runs: the sweep's parameters and status. */
    public static final StructType SWEEP_RUNS = new StructType()
            .add("sweep_id", StringType, false)
            .add("parameters", StringType, false)
            .add("seed", LongType, false)
            .add("code_version", StringType, false)
            .add("started_at", TimestampType, false)
            .add("finished_at", TimestampType, true)
            .add("status", StringType, false)
            .add("subset_tokens", LongType, false)      // target tokens evaluated so far, racing subset
            .add("full_tokens", LongType, false);       // and whole validation set

    /** sweeps/&lt;id&gt;/front: the latency/loss Pareto front of every fully evaluated candidate. */
    public static final StructType SWEEP_FRONT = new StructType()
            .add("sweep_id", StringType, false)
            .add("config_hash", StringType, false)
            .add("config_json", StringType, false)
            .add("predicted_latency_ms", DoubleType, false)
            .add("val_loss", DoubleType, false)
            .add("found_in_generation", IntegerType, false);

    /** subnets/&lt;hash&gt;/&lt;init&gt;/metrics: a SubTransformer's training curve. */
    public static final StructType SUBNET_METRICS = new StructType()
            .add("step", LongType, false)
            .add("train_loss", DoubleType, true)
            .add("grad_norm", DoubleType, true)
            .add("valid_loss", DoubleType, false)
            .add("tokens_per_s", DoubleType, false);

    /** subnets/&lt;hash&gt;/&lt;init&gt;/translations: beam-search output on the test split. */
    public static final StructType SUBNET_TRANSLATIONS = new StructType()
            .add("ref", StringType, false)
            .add("hypothesis", StringType, false)
            .add("reference", StringType, false);

    /** subnets/results: BLEU and latency of trained SubTransformers. */
    public static final StructType SUBNET_RESULTS = new StructType()
            .add("config_hash", StringType, false)
            .add("budget_ms", DoubleType, true)
            .add("bleu", DoubleType, false)
            .add("measured_latency_ms", DoubleType, false)
            .add("predicted_latency_ms", DoubleType, true)
            .add("params", LongType, false)
            .add("role", StringType, false)
            .add("sweep_id", StringType, true)
            .add("init", StringType, false)
            .add("train_steps", LongType, false)
            .add("valid_loss", DoubleType, false)
            .add("hardware_id", StringType, false)
            .add("bleu_signature", StringType, false)
            .add("test_sentences", IntegerType, false)
            .add("beam", IntegerType, false)
            .add("length_penalty", DoubleType, false)
            .add("config_json", StringType, false)
            .add("checkpoint", StringType, false)
            .add("evaluated_at", TimestampType, false)
            .add("measured_raw_latency_ms", DoubleType, true)
            .add("label_noise_rel", DoubleType, true)
            .add("meets_budget", BooleanType, true);

    /** validation/configs: inherited vs from-scratch loss per sampled config. */
    public static final StructType VALIDATION_CONFIGS = new StructType()
            .add("config_hash", StringType, false)
            .add("inherited_loss", DoubleType, false)
            .add("scratch_loss", DoubleType, false)
            .add("scratch_steps", LongType, false)
            .add("checkpoint_id", StringType, false)
            .add("valid_set_id", StringType, false)
            .add("recipe", StringType, false)
            .add("config_json", StringType, false)
            .add("train_s", DoubleType, false);

    /** validation/summary: Kendall's tau per checkpoint, validation set and recipe. */
    public static final StructType VALIDATION_SUMMARY = new StructType()
            .add("kendall_tau", DoubleType, false)
            .add("k", IntegerType, false)
            .add("scratch_steps", LongType, false)
            .add("sample_seed", LongType, false)
            .add("checkpoint_id", StringType, false)
            .add("valid_set_id", StringType, false)
            .add("recipe", StringType, false)
            .add("config_hashes", STRINGS, false)
            .add("finished_at", TimestampType, false);

    /** Every table by its SQL view name (the {@code sql} job's and the notebooks' names). */
    public static Map<String, StructType> all() {
        Map<String, StructType> m = new LinkedHashMap<>();
        m.put("corpus_pairs", CORPUS_PAIRS);
        m.put("supernet_metrics", SUPERNET_METRICS);
        m.put("evaluations", EVALUATIONS);
        m.put("latency_measurements", LATENCY_MEASUREMENTS);
        m.put("latency_runs", LATENCY_RUNS);
        m.put("predictor_metrics", PREDICTOR_METRICS);
        m.put("predictor_predictions", PREDICTOR_PREDICTIONS);
        m.put("sweep_population", SWEEP_POPULATION);
        m.put("sweep_best", SWEEP_BEST);
        m.put("sweep_runs", SWEEP_RUNS);
        m.put("sweep_front", SWEEP_FRONT);
        m.put("subnet_metrics", SUBNET_METRICS);
        m.put("subnet_translations", SUBNET_TRANSLATIONS);
        m.put("subnets", SUBNET_RESULTS);
        m.put("validation_configs", VALIDATION_CONFIGS);
        m.put("validation_summary", VALIDATION_SUMMARY);
        return m;
    }

    private static StructType measurements() {
        StructType s = new StructType();
        for (Measurement.Column c : Measurement.COLUMNS) {
            s = s.add(c.name(), switch (c.type()) {
                case STRING -> StringType;
                case INT -> IntegerType;
                case DOUBLE -> DoubleType;
                case BOOLEAN -> BooleanType;
                case TIMESTAMP -> TimestampType;
            }, c.nullable());
        }
        return s;
    }

    /** A measurement as a row of {@link #LATENCY_MEASUREMENTS}. */
    public static Row measurementRow(Measurement m) {
        Object[] v = m.values();
        for (int i = 0; i < v.length; i++) {
            if (v[i] instanceof Instant t) {
                v[i] = Timestamp.from(t);
            }
        }
        return RowFactory.create(v);
    }
}
