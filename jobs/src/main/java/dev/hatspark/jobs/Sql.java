package dev.hatspark.jobs;

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
        description = "Run Spark SQL over a run root's tables (views: corpus_pairs, supernet_metrics, evaluations, latency_measurements, predictor_metrics, predictor_predictions, sweep_population, sweep_best, sweep_runs, subnets, validation_configs, validation_summary).")
public final class Sql implements Job {
    @Mixin
    RunOptions run = new RunOptions();

    @Parameters(index = "0", description = "The query")
    String query;

    @Option(names = "--rows", description = "Rows to print. Default: ${DEFAULT-VALUE}")
    int rows = 50;

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
        views.put("subnets", layout.subnetResults());
        views.put("validation_configs", layout.validationConfigs());
        views.put("validation_summary", layout.validationSummary());
        Map<String, String> registered = new LinkedHashMap<>();
        views.forEach((view, path) -> {
            if (fs.exists(path)) {
                spark.read().parquet(path).createOrReplaceTempView(view);
                registered.put(view, path);
            }
        });
        // every sweep and every predictor of the run root, one view per table kind (rows carry their id)
        String sweeps = Fs.join(layout.root(), "sweeps");
        for (String table : List.of("population", "best", "runs")) {
            union(spark, fs, sweeps, table, "sweep_" + table, registered);
        }
        String predictors = Fs.join(layout.root(), "latency", "predictor");
        for (String table : List.of("metrics", "predictions")) {
            union(spark, fs, predictors, table, "predictor_" + table, registered);
        }
        return registered;
    }

    /** Registers {@code view} over {@code <dir>/<every child>/<table>} when any exists. */
    private static void union(SparkSession spark, Fs fs, String dir, String table, String view, Map<String, String> registered) {
        Dataset<Row> all = null;
        for (String id : fs.list(dir)) {
            String path = Fs.join(dir, id, table);
            if (!id.startsWith(".") && !id.contains("._") && fs.exists(path)) {
                Dataset<Row> one = spark.read().parquet(path);
                all = all == null ? one : all.unionByName(one, true);
            }
        }
        if (all != null) {
            all.createOrReplaceTempView(view);
            registered.put(view, Fs.join(dir, "*", table));
        }
    }

    @Override
    public Object run(SparkSession spark) {
        Map<String, String> views = register(spark, run.layout());
        spark.sql(query).show(rows, false);
        return "views " + views.keySet();
    }
}
