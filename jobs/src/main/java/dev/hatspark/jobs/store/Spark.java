package dev.hatspark.jobs.store;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** The Spark session of a job: the cluster's when launched by spark-submit, embedded local[*] otherwise. */
public final class Spark {
    private Spark() {
    }

    public static SparkSession session(String app) {
        return session(app, Map.of());
    }

    /** @param settings a run profile's Spark settings; spark-submit's own --conf values win over them */
    public static SparkSession session(String app, Map<String, String> settings) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName("hat-spark " + app);
        settings.forEach((k, v) -> {
            if (!conf.contains(k)) {
                b.config(k, v);
            }
        });
        if (!conf.contains("spark.master") && !settings.containsKey("spark.master")) {
            b.master(System.getProperty("hat.spark.master", "local[*]"))
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "8")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1");
        }
        // standard Parquet logical types so DuckDB, pandas and Athena read every table as-is
        b.config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
                .config("spark.sql.parquet.writeLegacyFormat", "false");
        return b.getOrCreate();
    }
}
