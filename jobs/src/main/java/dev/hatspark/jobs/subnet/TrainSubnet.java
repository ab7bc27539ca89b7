package dev.hatspark.jobs.subnet;

import dev.hatspark.jobs.cli.RecipeOptions;
import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.CheckpointOption;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.model.TrainingRecipe;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * train-subnet: trains SubTransformers on their own (a sweep's winners, the largest config as the
 * baseline, or given configs) with the SuperTransformer's recipe, fine-tuned from inherited weights
 * or from scratch, on the driver like train-supernet; each resumes from its newest checkpoint.
 */
@Command(name = "train-subnet", mixinStandardHelpOptions = true,
        description = "Train SubTransformers (sweep winners, the largest, or --config) on their own; resumes from checkpoints.")
public final class TrainSubnet implements Job<List<TrainSubnet.Trained>> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainSubnet.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Mixin
    public Targets targets = new Targets();

    @Mixin
    public RecipeOptions recipe = new RecipeOptions();

    @Option(names = "--init", description = "inherited (fine-tune the SuperTransformer's weights) or scratch. Default: ${DEFAULT-VALUE}")
    public String init = SubnetTraining.INHERITED;

    @Mixin
    public CheckpointOption checkpoint = new CheckpointOption();

    @Override
    public String name() {
        return "train-subnet";
    }

    /** One trained SubTransformer. */
    public record Trained(String configHash, String init, long step, double validLoss, String checkpoint) {
    }

    @Override
    public List<Trained> run(SparkSession spark) throws Exception {
        if (!init.equals(SubnetTraining.INHERITED) && !init.equals(SubnetTraining.SCRATCH)) {
            throw new BadInputException("--init must be inherited or scratch, got '" + init + "'");
        }
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        TrainingRecipe r = recipe.recipe();
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        String ckpt = checkpoint.resolve(fs, layout);
        DesignSpace space = Checkpoints.readState(fs, ckpt).space(ckpt);
        List<ArchConfig> configs = Targets.distinct(targets.resolve(spark, layout, space));
        recipe.useThreads();
        List<int[][]> train = Corpus.pairs(spark, layout, "train", r.maxLen(), 0);
        List<int[][]> valid = Corpus.validation(spark, layout, recipe.validSentences).pairs();
        List<Trained> out = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            ArchConfig c = configs.get(i);
            LOG.info("train-subnet {}/{}: {} {}", i + 1, configs.size(), c.hash(), c.toJson());
            SubnetTraining.Outcome o = SubnetTraining.train(fs, layout, c, space,
                    init.equals(SubnetTraining.INHERITED) ? ckpt : null, r, corpus, train, valid);
            writeMetrics(spark, fs, layout, o);
            out.add(new Trained(o.configHash(), o.init(), o.step(), o.validLoss(), o.checkpoint()));
        }
        return out;
    }

    /** subnets/<hash>/<init>/metrics: the training curve, rewritten whole from the checkpoint's rows. */
    private static void writeMetrics(SparkSession spark, Fs fs, Layout layout, SubnetTraining.Outcome o) {
        List<Row> rows = new ArrayList<>();
        for (SubnetTraining.Metrics m : o.metrics()) {
            rows.add(RowFactory.create(m.step(), m.trainLoss(), m.gradNorm(), m.validLoss(), m.tokensPerS()));
        }
        fs.writeParquet(spark.createDataFrame(rows, Tables.SUBNET_METRICS).coalesce(1),
                layout.subnet(o.configHash(), o.init()).metrics());
    }
}
