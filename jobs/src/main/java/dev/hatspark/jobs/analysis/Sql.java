package dev.hatspark.jobs.analysis;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** sql: registers the run root's tables as temporary views and runs a Spark SQL query over them. */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = "Run Spark SQL over a run root's tables (views: corpus_pairs, supernet_metrics, evaluations, latency_measurements, latency_runs, predictor_metrics, predictor_predictions, sweep_population, sweep_best, sweep_runs, sweep_front, subnets, validation_configs, validation_summary).")
public final class Sql implements Job<String> {
    @Mixin
    public RunOptions run = new RunOptions();

    @Parameters(index = "0", description = "The query")
    public String query;

    @Option(names = "--rows", description = "Rows to print. Default: ${DEFAULT-VALUE}")
    public int rows = 50;

    @Override
    public String name() {
        return "sql";
    }

    /** View name → table path of a run root (only tables that exist are registered). */
    public static Map<String, String> register(SparkSession spark, Layout layout) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Map<String, String> views = new LinkedHashMap<>();
        views.put("corpus_pairs", layout.corpusPairs());
        views.put("supernet_metrics", layout.supernetMetrics());
        views.put("evaluations", layout.evaluations());
        views.put("latency_measurements", layout.latencyMeasurements());
        views.put("latency_runs", layout.latencyRuns());
        views.put("subnets", layout.subnetResults());
        views.put("validation_configs", layout.validationConfigs());
        views.put("validation_summary", layout.validationSummary());
        Map<String, String> registered = new LinkedHashMap<>();
        views.forEach((view, path) -> {
            if (fs.hasCurrent(path)) {
                String current = fs.current(path);
                (view.equals("latency_measurements") ? Tables.readMeasurements(spark, current) : spark.read().parquet(current))
                        .createOrReplaceTempView(view);
                registered.put(view, path);
            }
        });
        // every sweep and every predictor of the run root, one view per table kind (rows carry their id)
        List<String> sweeps = fs.listIds(layout.sweeps());
        union(spark, fs, sweeps.stream().map(id -> layout.sweep(id).population()).toList(), "sweep_population", registered);
        union(spark, fs, sweeps.stream().map(id -> layout.sweep(id).best()).toList(), "sweep_best", registered);
        union(spark, fs, sweeps.stream().map(id -> layout.sweep(id).runs()).toList(), "sweep_runs", registered);
        union(spark, fs, sweeps.stream().map(id -> layout.sweep(id).front()).toList(), "sweep_front", registered);
        List<String> hws = fs.listIds(layout.predictors());
        union(spark, fs, hws.stream().map(hw -> LatencyPredictor.folder(fs, layout, hw).metrics()).toList(), "predictor_metrics", registered);
        union(spark, fs, hws.stream().map(hw -> LatencyPredictor.folder(fs, layout, hw).predictions()).toList(), "predictor_predictions",
                registered);
        return registered;
    }

    /** Registers {@code view} over the union of those {@code tables} (one per sweep or hardware id) that exist. */
    private static void union(SparkSession spark, Fs fs, List<String> tables, String view, Map<String, String> registered) {
        Dataset<Row> all = null;
        List<String> found = new java.util.ArrayList<>();
        for (String path : tables) {
            if (fs.hasCurrent(path)) {
                Dataset<Row> one = spark.read().parquet(fs.current(path));
                all = all == null ? one : all.unionByName(one, true);
                found.add(path);
            }
        }
        if (all != null) {
            all.createOrReplaceTempView(view);
            registered.put(view, String.join(",", found));
        }
    }

    @Override
    public String run(SparkSession spark) {
        Map<String, String> views = register(spark, run.layout());
        Dataset<Row> result;
        try {
            result = spark.sql(query);
        } catch (Exception e) { // Scala throws AnalysisException unchecked
            if (!(e instanceof AnalysisException)) {
                throw e;
            }
            // a parse error, an unknown view or column: the user's query, in one line
            throw new BadInputException(e.getMessage().lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("")
                    + (views.isEmpty() ? " (no tables in " + run.root + ")" : " (views: " + String.join(", ", views.keySet()) + ")"), e);
        }
        result.show(rows, false);
        return "views " + views.keySet();
    }
}
