package dev.hatspark.jobs;

import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * eval-subnet: validation loss of SubTransformers with inherited weights, sharded over executors that
 * each load the checkpoint once; results are merged into the {@code evaluations/} cache table.
 */
@Command(name = "eval-subnet", mixinStandardHelpOptions = true,
        description = "Validation loss (mean token NLL) of SubTransformers with inherited SuperTransformer weights.")
public final class EvalSubnet implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(EvalSubnet.class);

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--checkpoint", description = "Checkpoint directory; default: the newest under <root>/supernet/checkpoints")
    String checkpoint;

    @Option(names = "--config", description = "A config as JSON (repeatable)")
    List<String> configs = new ArrayList<>();

    @Option(names = "--largest", description = "Evaluate the largest SubTransformer")
    boolean largest;

    @Option(names = "--smallest", description = "Evaluate the smallest SubTransformer")
    boolean smallest;

    @Option(names = "--sample", description = "Evaluate N uniformly sampled configs. Default: ${DEFAULT-VALUE}")
    int sample = 0;

    @Option(names = "--seed", description = "Seed of --sample. Default: ${DEFAULT-VALUE}")
    long seed = 7;

    @Option(names = "--max-tokens", description = "Token budget of an evaluation batch. Default: ${DEFAULT-VALUE}")
    int maxTokens = 4096;

    @Option(names = "--max-len", description = "Validation pairs up to this many tokens per side. Default: ${DEFAULT-VALUE}")
    int maxLen = 256;

    @Override
    public String name() {
        return "eval-subnet";
    }

    /** One evaluated config; {@code cached} when the loss came from the evaluations/ table. */
    public record Evaluation(String configHash, String configJson, double valLoss, boolean cached) {
    }

    @Override
    public Object run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = checkpoint != null ? checkpoint : Checkpoints.latestOf(fs, layout);
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        DesignSpace ds = state.space(ckpt);
        Set<ArchConfig> todo = new LinkedHashSet<>();
        for (String json : configs) {
            todo.add(ArchConfig.fromJson(json).validate(ds));
        }
        if (largest) {
            todo.add(ds.largest());
        }
        if (smallest) {
            todo.add(ds.smallest());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < sample; i++) {
            todo.add(Genetics.sample(ds, rng));
        }
        if (todo.isEmpty()) {
            throw new IllegalArgumentException("nothing to evaluate: give --config, --largest, --smallest or --sample N");
        }
        Evaluations.Key key = Evaluations.key(spark, layout, ckpt, maxLen, 0, maxTokens);
        Map<String, Double> cache = Evaluations.cached(spark, layout, key);
        List<ArchConfig> missing = todo.stream().filter(c -> !cache.containsKey(c.hash())).toList();
        List<Evaluations.Evaluation> fresh = Evaluations.evaluate(spark, key, missing, ds.qkvDim, state.tgtVocab());
        Evaluations.append(spark, layout, key, fresh);
        Map<String, Double> loss = new HashMap<>(cache);
        fresh.forEach(e -> loss.put(e.configHash(), e.valLoss()));
        List<Evaluation> results = new ArrayList<>();
        for (ArchConfig c : todo) {
            boolean hit = cache.containsKey(c.hash());
            results.add(new Evaluation(c.hash(), c.toJson(), loss.get(c.hash()), hit));
            LOG.info("val_loss {}{} {}", String.format("%.4f", loss.get(c.hash())), hit ? " (cached)" : "", c.toJson());
        }
        return results;
    }
}
