package dev.hatspark.jobs.subnet;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.store.ConfigInputs;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which SubTransformers train-subnet and evaluate work on: the winners of a sweep (one per budget,
 * from {@code sweeps/<id>/best}), the space's largest config (the baseline), or {@code --config}s
 * (JSON, HAT .yml files or folders, see {@link ConfigInputs}).
 */
public final class Targets {
    @Option(names = "--sweep", description = "Take the winners of this sweep (sweeps/<id>/best)")
    public String sweepId;

    @Option(names = "--budget", split = ",", description = "Only these budgets (ms) of --sweep; default: all")
    public List<Double> budgets = new ArrayList<>();

    @Option(names = "--largest", description = "The largest config of the space: the baseline")
    public boolean largest;

    @Option(names = "--config", description = "A config: JSON, a HAT SubTransformer .yml, a folder of .yml (name order) or a file of JSON lines; any Hadoop path (repeatable)")
    public List<String> configs = new ArrayList<>();

    /** One SubTransformer to work on; {@code role} is winner, baseline or config; budget only for winners. */
    public record Target(String role, String sweepId, Double budgetMs, ArchConfig config) implements Serializable {
    }

    public List<Target> resolve(SparkSession spark, Layout layout, DesignSpace space) {
        List<Target> out = new ArrayList<>();
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        if (sweepId != null) {
            String best = layout.sweep(sweepId).best();
            if (!fs.hasCurrent(best)) {
                throw new BadInputException("sweep '" + sweepId + "' has no winners: " + best + " does not exist");
            }
            List<Row> rows = spark.read().parquet(fs.current(best)).orderBy("budget_ms").collectAsList();
            for (Row r : rows) {
                double b = r.getAs("budget_ms");
                if (budgets.isEmpty() || budgets.contains(b)) {
                    out.add(new Target("winner", sweepId, b, ArchConfig.fromJson(r.getAs("config_json")).validate(space)));
                }
            }
            for (double b : budgets) {
                if (rows.stream().noneMatch(r -> r.<Double>getAs("budget_ms") == b)) {
                    throw new BadInputException("sweep '" + sweepId + "' has no budget " + b + " ms in " + best);
                }
            }
        } else if (!budgets.isEmpty()) {
            throw new BadInputException("--budget needs --sweep");
        }
        if (largest) {
            out.add(new Target("baseline", null, null, space.largest()));
        }
        for (ArchConfig c : ConfigInputs.readAll(fs, configs, space)) {
            out.add(new Target("config", null, null, c));
        }
        if (out.isEmpty()) {
            throw new BadInputException("no SubTransformer given: use --sweep ID, --largest or --config JSON|FILE.yml|FOLDER");
        }
        return out;
    }

    /** Distinct configs of the targets, in order (a config winning several budgets is trained once). */
    public static List<ArchConfig> distinct(List<Target> targets) {
        Map<String, ArchConfig> m = new LinkedHashMap<>();
        targets.forEach(t -> m.putIfAbsent(t.config().hash(), t.config()));
        return new ArrayList<>(m.values());
    }
}
