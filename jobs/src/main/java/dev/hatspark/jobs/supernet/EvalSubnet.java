package dev.hatspark.jobs.supernet;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.cli.CheckpointOption;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.ConfigInputs;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
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
public final class EvalSubnet implements Job<List<EvalSubnet.Evaluation>> {
    private static final Logger LOG = LoggerFactory.getLogger(EvalSubnet.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Mixin
    public CheckpointOption checkpoint = new CheckpointOption();

    @Option(names = "--config", description = "A config: JSON, a HAT SubTransformer .yml, a folder of .yml (name order) or a file of JSON lines; any Hadoop path (repeatable)")
    public List<String> configs = new ArrayList<>();

    @Option(names = "--largest", description = "Evaluate the largest SubTransformer")
    public boolean largest;

    @Option(names = "--smallest", description = "Evaluate the smallest SubTransformer")
    public boolean smallest;

    @Option(names = "--sample", description = "Evaluate N uniformly sampled configs. Default: ${DEFAULT-VALUE}")
    public int sample = 0;

    @Option(names = "--seed", description = "Seed of --sample. Default: ${DEFAULT-VALUE}")
    public long seed = 7;

    @Option(names = "--max-tokens", description = "Token budget of an evaluation batch. Default: ${DEFAULT-VALUE}")
    public int maxTokens = 4096;

    @Option(names = "--valid-sentences", description = "Validation pairs used for the loss (0 = the whole valid split). Default: ${DEFAULT-VALUE}")
    public int validSentences = 0;

    @Override
    public String name() {
        return "eval-subnet";
    }

    /** One evaluated config; {@code cached} when the loss came from the evaluations/ table. */
    public record Evaluation(String configHash, String configJson, double valLoss, boolean cached) {
    }

    @Override
    public List<Evaluation> run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String ckpt = checkpoint.resolve(fs, layout);
        Checkpoints.State state = Checkpoints.readState(fs, ckpt);
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        state.requireVocabulary(corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), ckpt);
        DesignSpace ds = state.space(ckpt);
        Set<ArchConfig> todo = new LinkedHashSet<>();
        todo.addAll(ConfigInputs.readAll(fs, configs, ds));
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
            throw new BadInputException("nothing to evaluate: give --config, --largest, --smallest or --sample N");
        }
        Evaluations.Key key = Evaluations.key(spark, layout, ckpt, validSentences, maxTokens);
        Map<String, Double> cache = Evaluations.cached(spark, layout, key);
        List<ArchConfig> missing = todo.stream().filter(c -> !cache.containsKey(c.hash())).toList();
        List<Evaluations.Evaluation> fresh = Evaluations.evaluate(spark, key, missing, ds.qkvDim, state.tgtVocab());
        Evaluations.append(spark, layout, key, fresh, "eval-subnet");
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
