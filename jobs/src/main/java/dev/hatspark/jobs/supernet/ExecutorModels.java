package dev.hatspark.jobs.supernet;

import ai.djl.ndarray.NDManager;
import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.model.Batch;
import dev.hatspark.model.Batches;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.Torch;
import dev.hatspark.util.LeasedCache;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loaded SuperTransformers per executor JVM, reused by every task and job that asks for the same
 * weights: loading costs seconds, an evaluation a fraction of one. Models are keyed by checkpoint id, at
 * most {@link #CAPACITY} at once (an evicted model's native memory is freed once no task uses it);
 * validation batches by validation-set id.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    /** A sweep uses one checkpoint; two let a job on another checkpoint overlap without reloading each time. */
    static final int CAPACITY = 2;
    private static final LeasedCache<String, SuperTransformer> MODELS = new LeasedCache<>(CAPACITY, SuperTransformer::close);
    /** Batches per validation set: a racing sweep uses one per stage and one for the rest. Plain Java arrays. */
    private static final Map<String, List<Batch>> BATCHES = Collections.synchronizedMap(new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<Batch>> eldest) {
            return size() > 4 * CAPACITY;
        }
    });
    private static final NDManager ROOT = NDManager.newBaseManager();
    private static volatile boolean threadsSet;

    private ExecutorModels() {
    }

    /** A task's evaluator: the cached model of the key's checkpoint on the key's validation batches. */
    public static final class Leased implements AutoCloseable {
        private final LeasedCache<String, SuperTransformer>.Lease model;
        private final SubnetEvaluator evaluator;

        private Leased(LeasedCache<String, SuperTransformer>.Lease model, List<Batch> batches) {
            this.model = model;
            this.evaluator = new SubnetEvaluator(model.get(), batches);
        }

        public SubnetEvaluator get() {
            return evaluator;
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * The evaluator of a cache key's weights and validation set; close it when the task is done. The model is
     * keyed by checkpoint alone, so a racing sweep's subset and full evaluations share one load.
     */
    public static Leased evaluator(Evaluations.Key k) {
        var model = MODELS.acquire(k.checkpointId(), id -> {
            LOG.info("executor loading {}", k.checkpoint());
            capThreads();
            long t0 = System.nanoTime();
            SuperTransformer m = Checkpoints.loadModel(fs(), k.checkpoint(), ROOT);
            LOG.info("executor loaded {} in {} ms", k.checkpointId(), (System.nanoTime() - t0) / 1_000_000);
            return m;
        });
        try {
            List<Batch> batches = BATCHES.computeIfAbsent(k.validSetId() + "|" + k.maxTokens(),
                    id -> Batches.byTokens(k.valid(), k.maxTokens()));
            return new Leased(model, batches);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
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
