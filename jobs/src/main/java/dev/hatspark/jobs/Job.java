package dev.hatspark.jobs;

import org.apache.spark.sql.SparkSession;

/** One batch job: options are its picocli fields; {@link #run} returns a small result the CLI prints. */
public interface Job {
    String name();

    Object run(SparkSession spark) throws Exception;
}
