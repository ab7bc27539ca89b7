package dev.hatspark.latency;

import ai.djl.engine.Engine;
import dev.hatspark.model.Torch;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a timing ran on, read on the machine that ran it (a Spark executor or an edge device): the
 * CPU model, the PyTorch threads of this JVM and the library versions. The hardware id is the CPU
 * model's slug plus the thread count, e.g. {@code amd-epyc-1t}.
 */
public record Device(String hardwareId, String cpuModel, int threads, String osArch, String djlVersion,
                     String pytorchVersion) implements Serializable {

    /** This machine with the PyTorch thread count currently set (see {@link Torch#threads(int, int)}). */
    public static Device detect() {
        int threads = Torch.threads();
        String cpu = readCpuModel();
        String arch = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        return new Device(id(cpu, threads), cpu, threads, arch, Engine.getDjlVersion(), Engine.getInstance().getVersion());
    }

    public static String id(String cpuModel, int threads) {
        return slug(cpuModel) + "-" + threads + "t";
    }

    /** The CPU model from /proc/cpuinfo (x86 "model name", ARM "Hardware"/"Model"), else the JVM's arch. */
    public static String readCpuModel() {
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
    public static String slug(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("\\((r|tm)\\)", "").replaceAll("[^a-z0-9]+", "-")
                .replaceAll("^-|-$", "");
    }
}
