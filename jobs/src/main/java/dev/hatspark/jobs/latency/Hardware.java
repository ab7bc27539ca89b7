package dev.hatspark.jobs.latency;

import dev.hatspark.latency.Device;

/** The Spark side of {@link Device}: what a task of this session may use and is called. */
public final class Hardware {
    private Hardware() {
    }

    /** Refuses a hardware id that would not be a safe folder name under latency/. */
    public static void checkId(String hardwareId) {
        if (hardwareId == null || !hardwareId.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || !hardwareId.matches(".*[A-Za-z].*")) {
            throw new dev.hatspark.util.BadInputException("--hardware-id must be letters, digits, '.', '_' or '-' with at least"
                    + " one letter, got '" + hardwareId + "'");
        }
    }

    /** The id a task of this (local-mode) session gets: this CPU with spark.task.cpus threads. */
    public static String localId(org.apache.spark.sql.SparkSession spark) {
        return Device.id(Device.readCpuModel(), spark.sparkContext().getConf().getInt("spark.task.cpus", 1));
    }

    /** Cores Spark gives each task on this executor: the PyTorch threads one timing or evaluation may use. */
    public static int taskCpus() {
        return org.apache.spark.SparkEnv.get() == null ? 1 : org.apache.spark.SparkEnv.get().conf().getInt("spark.task.cpus", 1);
    }
}
