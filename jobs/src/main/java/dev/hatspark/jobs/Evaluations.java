package dev.hatspark.jobs;

import dev.hatspark.model.Flops;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * Validation-loss evaluation of many configs as one Spark job, and the {@code evaluations/} cache
 * (config_hash, checkpoint_id, valid_set_id → val_loss) that keeps any config from being evaluated
 * twice for the same weights and validation set, across budgets, generations, jobs and reruns.
 */
public final class Evaluations {
    private Evaluations() {
    }

    /** One evaluated config, with the partition that ran it and that partition's total compute time. */
    public record Evaluation(String configHash, String configJson, double valLoss, double evalMs, int partition,
                             double partitionMs) implements Serializable {
    }

    /** What the cache key needs: the weights and the validation set. */
    public record Key(String checkpoint, String checkpointId, String validSetId, List<int[][]> valid, int maxTokens)
            implements Serializable {
    }

    public static Key key(SparkSession spark, Layout layout, String checkpoint, int maxLen, int validSentences, int maxTokens) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Checkpoints.State state = Checkpoints.readState(fs, checkpoint);
        String checkpointId = Checkpoints.name(state.step()) + ":" + Checkpoints.sha(fs.read(Fs.join(checkpoint, "model.ndlist")));
        List<int[][]> valid = Corpus.pairs(spark, layout, "valid", maxLen, validSentences);
        String validId = CorpusMeta.read(fs, layout).tgtVocabFingerprint() + ":valid:" + valid.size() + ":" + maxLen;
        return new Key(checkpoint, checkpointId, validId, valid, maxTokens);
    }

    static StructType schema() {
        return new StructType()
                .add("config_hash", DataTypes.StringType, false)
                .add("checkpoint_id", DataTypes.StringType, false)
                .add("valid_set_id", DataTypes.StringType, false)
                .add("val_loss", DataTypes.DoubleType, false)
                .add("config_json", DataTypes.StringType, false)
                .add("eval_ms", DataTypes.DoubleType, false);
    }

    /** Cached losses for this checkpoint and validation set, by config hash. */
    public static Map<String, Double> cached(SparkSession spark, Layout layout, Key key) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Map<String, Double> out = new HashMap<>();
        if (!fs.exists(layout.evaluations())) {
            return out;
        }
        for (Row r : spark.read().schema(schema()).parquet(layout.evaluations())
                .where(col("checkpoint_id").equalTo(key.checkpointId()).and(col("valid_set_id").equalTo(key.validSetId())))
                .select("config_hash", "val_loss").collectAsList()) {
            out.put(r.getString(0), r.getDouble(1));
        }
        return out;
    }

    /** Appends fresh evaluations to the cache table. */
    public static void append(SparkSession spark, Layout layout, Key key, List<Evaluation> fresh) {
        if (fresh.isEmpty()) {
            return;
        }
        List<Row> rows = new ArrayList<>();
        for (Evaluation e : fresh) {
            rows.add(RowFactory.create(e.configHash(), key.checkpointId(), key.validSetId(), e.valLoss(), e.configJson(), e.evalMs()));
        }
        new Fs(spark.sparkContext().hadoopConfiguration())
                .appendParquet(spark.createDataFrame(rows, schema()).coalesce(1), layout.evaluations());
    }

    /**
     * Evaluates configs in one Spark job. Partitions are balanced by estimated cost (forward FLOPs),
     * largest first onto the least-loaded partition, so no task waits on a heavy straggler; each
     * executor JVM loads the checkpoint once ({@link ExecutorModels}).
     */
    public static List<Evaluation> evaluate(SparkSession spark, Key key, List<ArchConfig> configs, int qkv, int vocab) {
        if (configs.isEmpty()) {
            return List.of();
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = Math.max(1, Math.min(configs.size(), jsc.defaultParallelism()));
        List<Tuple2<Integer, String>> assigned = balance(configs, parts, qkv, vocab);
        Broadcast<Key> keyB = jsc.broadcast(key);
        return jsc.parallelizePairs(assigned, parts).partitionBy(new HashPartitioner(parts)).mapPartitions(it -> {
            Key k = keyB.value();
            SubnetEvaluator ev = ExecutorModels.evaluator(k.checkpoint(), k.validSetId(), k.valid(), k.maxTokens());
            List<String[]> done = new ArrayList<>();
            long start = System.nanoTime();
            while (it.hasNext()) {
                ArchConfig c = ArchConfig.fromJson(it.next()._2());
                long t0 = System.nanoTime();
                double loss = ev.validLoss(c);
                done.add(new String[] {c.hash(), c.toJson(), Double.toString(loss), Double.toString((System.nanoTime() - t0) / 1e6)});
            }
            double partitionMs = (System.nanoTime() - start) / 1e6;
            int partition = TaskContext.getPartitionId();
            List<Evaluation> out = new ArrayList<>();
            for (String[] d : done) {
                out.add(new Evaluation(d[0], d[1], Double.parseDouble(d[2]), Double.parseDouble(d[3]), partition, partitionMs));
            }
            return out.iterator();
        }).collect();
    }

    /** Longest-processing-time-first assignment of configs to partitions by forward FLOPs. */
    static List<Tuple2<Integer, String>> balance(List<ArchConfig> configs, int parts, int qkv, int vocab) {
        List<ArchConfig> sorted = new ArrayList<>(configs);
        sorted.sort(Comparator.comparingDouble((ArchConfig c) -> -Flops.forward(c, qkv, vocab, 1, 30, 30))
                .thenComparing(ArchConfig::hash));
        double[] load = new double[parts];
        List<Tuple2<Integer, String>> out = new ArrayList<>();
        for (ArchConfig c : sorted) {
            int best = 0;
            for (int p = 1; p < parts; p++) {
                if (load[p] < load[best]) {
                    best = p;
                }
            }
            load[best] += Flops.forward(c, qkv, vocab, 1, 30, 30);
            out.add(new Tuple2<>(best, c.toJson()));
        }
        return out;
    }
}
