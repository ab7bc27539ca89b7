package dev.hatspark.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The Spark session of a job: the cluster's when launched by spark-submit, embedded local[*] otherwise. */
public final class Spark {
    private Spark() {
    }

    public static SparkSession session(String app) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName("hat-spark " + app);
        if (!conf.contains("spark.master")) {
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
