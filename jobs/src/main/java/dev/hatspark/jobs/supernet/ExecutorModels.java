package dev.hatspark.jobs.supernet;

import ai.djl.ndarray.NDManager;
import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.model.Batches;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.Torch;
import dev.hatspark.util.LeasedCache;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loaded SuperTransformers per executor JVM, reused by every task and job that asks for the same
 * weights and validation set: loading costs seconds, an evaluation a fraction of one. Keyed by content
 * ids (checkpoint id, validation-set id), at most {@link #CAPACITY} at once; an evicted model's native
 * memory is freed once no task uses it.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    /** A sweep uses one checkpoint; two let a job on another checkpoint overlap without reloading each time. */
    static final int CAPACITY = 2;
    private static final LeasedCache<String, SubnetEvaluator> EVALUATORS =
            new LeasedCache<>(CAPACITY, e -> e.model().close());
    private static final NDManager ROOT = NDManager.newBaseManager();
    private static volatile boolean threadsSet;

    private ExecutorModels() {
    }

    /** The evaluator of a cache key's weights and validation set; close the lease when the task is done. */
    public static LeasedCache<String, SubnetEvaluator>.Lease evaluator(Evaluations.Key k) {
        String id = k.checkpointId() + "|" + k.validSetId() + "|" + k.maxTokens();
        return EVALUATORS.acquire(id, key -> {
            LOG.info("executor loading {}", k.checkpoint());
            capThreads();
            long t0 = System.nanoTime();
            SuperTransformer model = Checkpoints.loadModel(fs(), k.checkpoint(), ROOT);
            LOG.info("executor loaded {} in {} ms", k.checkpointId(), (System.nanoTime() - t0) / 1_000_000);
            return new SubnetEvaluator(model, Batches.byTokens(k.valid(), k.maxTokens()));
        });
    }

    /** Hadoop-path I/O inside a task (the executor's Hadoop configuration; a default one off Spark). */
    public static Fs fs() {
        return new Fs(SparkEnv.get() != null ? hadoopConf() : new Configuration());
    }

    private static Configuration hadoopConf() {
        return org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
    }

    /** One PyTorch thread per task core, so concurrent tasks do not fight over cores. */
    public static void capThreads() {
        if (!threadsSet) {
            Torch.threads(Hardware.taskCpus(), 1);
            threadsSet = true;
        }
    }
}
