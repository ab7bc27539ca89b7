package dev.hatspark.jobs.search;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A sweep's winners as HAT SubTransformer ymls ({@code sweeps/<id>/hat/}), named like HAT's published
 * {@code HAT_<task>_<hardware>@<latency>ms_bleu@<bleu>.yml}: {@code hat-spark_<space>_<hardware>@<budget>ms_loss@<val
 * loss>.yml}, so HAT's {@code train.py --configs <this file>} trains a winner on GPUs.
 */
public final class HatExport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(HatExport.class);

    private HatExport() {
    }

    /** One budget's winner with what its file name and header say. */
    public record Winner(String sweepId, String hardwareId, double budgetMs, ArchConfig config, double predictedMs,
                         double valLoss) {
    }

    /**
     * Writes every budget's winner of the sweep under {@code sweeps/<id>/hat/}, each file whole
     * (temporary, then renamed), and removes the ymls of earlier winners; a rerun writes the same bytes.
     * Returns the paths written.
     */
    public static List<String> writeSweepWinners(SparkSession spark, Fs fs, Layout.Sweep dir, String spaceName) {
        List<String> written = new ArrayList<>();
        for (Winner w : winners(spark, fs, dir)) {
            String text;
            try {
                text = yaml(w);
            } catch (BadInputException e) { // attends to more than HAT's 3 last encoder layers: the sweep stands
                LOG.warn("sweep {}: the winner of budget {} ms has no HAT yml: {}", w.sweepId(), w.budgetMs(), e.getMessage());
                continue;
            }
            String path = Fs.join(dir.hat(), fileName(spaceName, w));
            fs.writeText(path, text);
            written.add(path);
        }
        Set<String> keep = new HashSet<>(written.stream().map(p -> p.substring(p.lastIndexOf('/') + 1)).toList());
        for (String name : fs.listIds(dir.hat())) {
            if (name.endsWith(".yml") && !keep.contains(name)) {
                fs.delete(Fs.join(dir.hat(), name));
            }
        }
        return written;
    }

    /** Each budget's winner ({@code best/}) of a sweep, lowest budget first; the hardware id from its run record. */
    public static List<Winner> winners(SparkSession spark, Fs fs, Layout.Sweep dir) {
        if (!fs.hasCurrent(dir.best()) || !fs.hasCurrent(dir.runs())) {
            throw new BadInputException("no finished generation in sweep folder " + dir.dir() + " (" + dir.best()
                    + " and " + dir.runs() + " are needed)");
        }
        String hw = hardwareId(spark.read().parquet(fs.current(dir.runs())).first().getAs("parameters"), dir.runs());
        List<Winner> out = new ArrayList<>();
        for (Row r : spark.read().parquet(fs.current(dir.best())).orderBy("budget_ms").collectAsList()) {
            out.add(new Winner(r.getAs("sweep_id"), hw, r.getAs("budget_ms"), ArchConfig.fromJson(r.getAs("config_json")),
                    r.getAs("predicted_latency_ms"), r.getAs("val_loss")));
        }
        return out;
    }

    private static String hardwareId(String parameters, String source) {
        try {
            JsonNode hw = JSON.readTree(parameters).get("hardware_id");
            if (hw == null || !hw.isTextual()) {
                throw new BadInputException(source + ": parameters name no hardware_id");
            }
            return hw.asText();
        } catch (JsonProcessingException e) {
            throw new BadInputException(source + ": parameters are not JSON: " + e.getOriginalMessage());
        }
    }

    /** {@code hat-spark_<space>_<hardware>@<budget>ms_loss@<val loss, 3 decimals>.yml} */
    public static String fileName(String spaceName, Winner w) {
        return "hat-spark_" + safe(spaceName) + "_" + safe(w.hardwareId()) + "@" + plain(w.budgetMs()) + "ms_loss@"
                + String.format(Locale.ROOT, "%.3f", w.valLoss()) + ".yml";
    }

    /** A config outside a sweep: {@code hat-spark_<space>_<label>.yml}. */
    public static String fileName(String spaceName, String label) {
        return "hat-spark_" + safe(spaceName) + "_" + safe(label) + ".yml";
    }

    /** The winner's HAT yml, with where it came from in comments (HAT's parser skips them). */
    public static String yaml(Winner w) {
        return String.format(Locale.ROOT, "# hat-spark sweep %s: winner of budget %s ms on %s (predicted %.2f ms),"
                        + " validation loss %.4f, config_hash %s%n", w.sweepId(), plain(w.budgetMs()), w.hardwareId(),
                w.predictedMs(), w.valLoss(), w.config().hash()) + w.config().toHatYaml();
    }

    /** A config's HAT yml with its hash in a comment. */
    public static String yaml(ArchConfig c, String origin) {
        return "# hat-spark " + origin + ", config_hash " + c.hash() + "\n" + c.toHatYaml();
    }

    private static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** Keeps names valid in every file system and shell: letters, digits, '.', '-'. */
    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9.-]", "-");
    }
}
