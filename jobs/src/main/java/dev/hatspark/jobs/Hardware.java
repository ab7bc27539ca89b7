package dev.hatspark.jobs;

import ai.djl.engine.Engine;
import dev.hatspark.model.Torch;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** What a timing ran on, read on the executor that ran it. */
public record Hardware(String hardwareId, String cpuModel, int threads, String osArch, String djlVersion,
                       String pytorchVersion) implements Serializable {

    public static Hardware detect() {
        int threads = Torch.threads();
        String cpu = readCpuModel();
        String arch = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        String id = slug(cpu) + "-" + threads + "t";
        return new Hardware(id, cpu, threads, arch, Engine.getDjlVersion(), Engine.getInstance().getVersion());
    }

    /** The id a task of this (local-mode) session gets: this CPU with spark.task.cpus threads. */
    public static String localId(org.apache.spark.sql.SparkSession spark) {
        return slug(readCpuModel()) + "-" + spark.sparkContext().getConf().getInt("spark.task.cpus", 1) + "t";
    }

    /** Cores Spark gives each task on this executor: the PyTorch threads one timing or evaluation may use. */
    static int taskCpus() {
        return org.apache.spark.SparkEnv.get() == null ? 1 : org.apache.spark.SparkEnv.get().conf().getInt("spark.task.cpus", 1);
    }

    static String readCpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String key : List.of("model name", "Hardware", "Model", "cpu model")) {
                for (String l : lines) {
                    if (l.startsWith(key) && l.contains(":")) {
                        return l.substring(l.indexOf(':') + 1).trim();
                    }
                }
            }
        } catch (Exception e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch") + " cpu";
    }

    /** "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" → "intel-xeon-platinum-8375c-cpu-2-90ghz". */
    static String slug(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("\\((r|tm)\\)", "").replaceAll("[^a-z0-9]+", "-")
                .replaceAll("^-|-$", "");
    }
}
