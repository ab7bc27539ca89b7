package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import dev.hatspark.model.Torch;
import dev.hatspark.model.Batches;
import dev.hatspark.model.SubnetEvaluator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One loaded SuperTransformer per executor JVM, reused by every task and job that asks for the same
 * checkpoint and validation set: loading costs seconds, an evaluation a fraction of one.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, SubnetEvaluator> EVALUATORS = new ConcurrentHashMap<>();
    private static final NDManager ROOT = NDManager.newBaseManager();
    private static volatile boolean threadsSet;

    private ExecutorModels() {
    }

    public static SubnetEvaluator evaluator(String checkpoint, String validSetId, List<int[][]> validPairs, int maxTokens) {
        String key = checkpoint + "|" + validSetId + "|" + maxTokens;
        return EVALUATORS.computeIfAbsent(key, k -> {
            LOG.info("executor loading {}", checkpoint);
            capThreads();
            long t0 = System.nanoTime();
            Fs fs = new Fs(SparkEnv.get() != null ? hadoopConf() : new Configuration());
            Checkpoints.Loaded loaded = Checkpoints.load(fs, checkpoint, ROOT);
            LOG.info("executor loaded {} in {} ms", loaded.checkpointId(), (System.nanoTime() - t0) / 1_000_000);
            return new SubnetEvaluator(loaded.model(), Batches.byTokens(validPairs, maxTokens));
        });
    }

    /** Hadoop-path I/O inside a task (the executor's Hadoop configuration; a default one off Spark). */
    static Fs fs() {
        return new Fs(SparkEnv.get() != null ? hadoopConf() : new Configuration());
    }

    private static Configuration hadoopConf() {
        return org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
    }

    /** One PyTorch thread per task core, so concurrent tasks do not fight over cores. */
    static void capThreads() {
        if (!threadsSet) {
            int cpus = Hardware.taskCpus();
            Torch.threads(cpus, 1);
            threadsSet = true;
        }
    }
}
