package dev.hatspark.jobs.cli;

import org.apache.spark.sql.SparkSession;

/**
 * One batch job: options are its picocli fields; {@link #run} returns a small typed result that the CLI
 * prints and tests inspect. A job never calls another job's helpers: what two jobs share lives in
 * their stage's package, in store/, or in common/.
 */
public interface Job<R> {
    String name();

    R run(SparkSession spark) throws Exception;
}
