package dev.hatspark.jobs.supernet;

import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.model.Flops;
import dev.hatspark.model.SubnetEvaluator;
import dev.hatspark.search.Racing;
import dev.hatspark.util.Balance;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
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

    /** Losses on the whole validation set (as HAT's) and on a racing subset of it. */
    public static final String FULL = "full";
    public static final String SUBSET = "subset";

    /**
     * One evaluated config, with the partition that ran it and that partition's total compute time;
     * {@code tokens} target tokens scored; {@code sentenceNll} per sentence (subset fidelity only, else null).
     */
    public record Evaluation(String configHash, String configJson, double valLoss, double evalMs, int partition,
                             double partitionMs, long tokens, double[] sentenceNll) implements Serializable {
    }

    /** What the cache key needs: the weights and the validation set (the whole one, or a racing subset). */
    public record Key(String checkpoint, String checkpointId, String validSetId, List<int[][]> valid, int maxTokens,
                      String fidelity) implements Serializable {
        /**
         * The racing parts of this key's validation set ({@link Racing#parts}): one key per stage for the sentences
         * it adds, then one for the rest (possibly empty); same weights, each with its own content id.
         */
        public List<Key> parts(Racing.Params p) {
            List<Key> out = new ArrayList<>();
            for (int[] idx : Racing.parts(valid.size(), p)) {
                Corpus.ValidSet sub = new Corpus.ValidSet(validSetId, valid).subset(idx);
                out.add(new Key(checkpoint, checkpointId, sub.id(), sub.pairs(), maxTokens, SUBSET));
            }
            return out;
        }

        /** Target tokens the evaluator scores on this key's sentences (each with its EOS). */
        public long tokens() {
            return valid.stream().mapToLong(p -> p[1].length + 1).sum();
        }
    }

    /**
     * The key of evaluations on {@code checkpoint}'s weights and the first {@code validSentences}
     * validation pairs (0 = all): ids of contents, so every job evaluating the same configs on the
     * same weights and sentences shares the cached losses.
     */
    public static Key key(SparkSession spark, Layout layout, String checkpoint, int validSentences, int maxTokens) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Corpus.ValidSet valid = Corpus.validation(spark, layout, validSentences);
        return new Key(checkpoint, Checkpoints.id(fs, checkpoint), valid.id(), valid.pairs(), maxTokens, FULL);
    }

    /** Cached losses for this checkpoint and validation set, by config hash. */
    public static Map<String, Double> cached(SparkSession spark, Layout layout, Key key) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Map<String, Double> out = new HashMap<>();
        if (!fs.exists(layout.evaluations())) {
            return out;
        }
        for (Row r : spark.read().schema(Tables.EVALUATIONS).parquet(layout.evaluations())
                .where(col("checkpoint_id").equalTo(key.checkpointId()).and(col("valid_set_id").equalTo(key.validSetId())))
                .select("config_hash", "val_loss").collectAsList()) {
            out.put(r.getString(0), r.getDouble(1));
        }
        return out;
    }

    /** Cached subset results (per-sentence NLL) for a {@link Key#subset} key, by config hash. */
    public static Map<String, Racing.Subset> cachedSubsets(SparkSession spark, Layout layout, Key key) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Map<String, Racing.Subset> out = new HashMap<>();
        if (!fs.exists(layout.evaluations())) {
            return out;
        }
        for (Row r : spark.read().schema(Tables.EVALUATIONS).parquet(layout.evaluations())
                .where(col("checkpoint_id").equalTo(key.checkpointId()).and(col("valid_set_id").equalTo(key.validSetId()))
                        .and(col("sentence_nll").isNotNull()))
                .select("config_hash", "sentence_nll", "target_tokens").collectAsList()) {
            List<Double> nll = r.getList(1);
            out.put(r.getString(0), new Racing.Subset(nll.stream().mapToDouble(Double::doubleValue).toArray(), r.getLong(2)));
        }
        return out;
    }

    /**
     * Config hash → {@code evaluated_by} of this key's rows that some run of {@code prefix} evaluated (a
     * sweep's run: what its generations evaluated before a restart).
     */
    public static Map<String, String> evaluatedBy(SparkSession spark, Layout layout, Key key, String prefix) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Map<String, String> out = new HashMap<>();
        if (!fs.exists(layout.evaluations())) {
            return out;
        }
        for (Row r : spark.read().schema(Tables.EVALUATIONS).parquet(layout.evaluations())
                .where(col("checkpoint_id").equalTo(key.checkpointId()).and(col("valid_set_id").equalTo(key.validSetId()))
                        .and(col("evaluated_by").startsWith(prefix)))
                .select("config_hash", "evaluated_by").collectAsList()) {
            out.put(r.getString(0), r.getString(1));
        }
        return out;
    }

    /** Appends fresh evaluations to the cache table, marked as evaluated by {@code by}. */
    public static void append(SparkSession spark, Layout layout, Key key, List<Evaluation> fresh, String by) {
        if (fresh.isEmpty()) {
            return;
        }
        List<Row> rows = new ArrayList<>();
        for (Evaluation e : fresh) {
            rows.add(RowFactory.create(e.configHash(), key.checkpointId(), key.validSetId(), e.valLoss(), e.configJson(), e.evalMs(),
                    key.fidelity(), e.tokens(), e.sentenceNll() == null ? null
                            : Arrays.stream(e.sentenceNll()).boxed().toArray(Double[]::new), by));
        }
        new Fs(spark.sparkContext().hadoopConfiguration())
                .appendParquet(spark.createDataFrame(rows, Tables.EVALUATIONS).coalesce(1), layout.evaluations());
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
            List<Evaluation> done = new ArrayList<>();
            long start = System.nanoTime();
            int partition = TaskContext.getPartitionId();
            try (var lease = ExecutorModels.evaluator(k)) {
                SubnetEvaluator ev = lease.get();
                while (it.hasNext()) {
                    ArchConfig c = ArchConfig.fromJson(it.next()._2());
                    long t0 = System.nanoTime();
                    // the subset keeps its per-sentence NLL, so racing can pair two configs sentence by sentence
                    double[] perSentence = SUBSET.equals(k.fidelity()) ? ev.sentenceNll(c) : null;
                    double loss = perSentence != null ? Arrays.stream(perSentence).sum() / ev.tokens() : ev.validLoss(c);
                    done.add(new Evaluation(c.hash(), c.toJson(), loss, (System.nanoTime() - t0) / 1e6, partition, 0,
                            ev.tokens(), perSentence));
                }
            }
            double partitionMs = (System.nanoTime() - start) / 1e6;
            return done.stream().map(e -> new Evaluation(e.configHash(), e.configJson(), e.valLoss(), e.evalMs(), partition,
                    partitionMs, e.tokens(), e.sentenceNll())).iterator();
        }).collect();
    }

    /** Configs onto partitions by forward FLOPs ({@link Balance#lpt}), in a fixed order (by hash) for determinism. */
    static List<Tuple2<Integer, String>> balance(List<ArchConfig> configs, int parts, int qkv, int vocab) {
        List<ArchConfig> sorted = new ArrayList<>(configs);
        sorted.sort(Comparator.comparing(ArchConfig::hash));
        double[] cost = sorted.stream().mapToDouble(c -> Flops.forward(c, qkv, vocab, 1, 30, 30)).toArray();
        int[] part = Balance.lpt(cost, parts);
        List<Tuple2<Integer, String>> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            out.add(new Tuple2<>(part[i], sorted.get(i).toJson()));
        }
        return out;
    }
}
