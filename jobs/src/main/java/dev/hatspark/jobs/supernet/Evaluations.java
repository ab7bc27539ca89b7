package dev.hatspark.jobs.supernet;

import dev.hatspark.jobs.corpus.Corpus;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.model.Batches;
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
        appendRows(spark, layout, rows(key, fresh, by));
    }

    /** The cache rows of {@code fresh} under {@code key}, for {@link #appendRows} (possibly later, with other keys' rows). */
    public static List<Row> rows(Key key, List<Evaluation> fresh, String by) {
        List<Row> rows = new ArrayList<>();
        for (Evaluation e : fresh) {
            rows.add(RowFactory.create(e.configHash(), key.checkpointId(), key.validSetId(), e.valLoss(), e.configJson(), e.evalMs(),
                    key.fidelity(), e.tokens(), e.sentenceNll() == null ? null
                            : Arrays.stream(e.sentenceNll()).boxed().toArray(Double[]::new), by));
        }
        return rows;
    }

    /** Appends cache rows ({@link #rows}) to {@code evaluations/} in one commit. */
    public static void appendRows(SparkSession spark, Layout layout, List<Row> rows) {
        if (rows.isEmpty()) {
            return;
        }
        new Fs(spark.sparkContext().hadoopConfiguration())
                .appendParquet(spark.createDataFrame(rows, Tables.EVALUATIONS).coalesce(1), layout.evaluations());
    }

    /**
     * Evaluates configs in one Spark job. A config that would outlast an even share of the job per slot has its
     * validation batches split into pieces ({@link #shards}); pieces are balanced by estimated cost (forward
     * FLOPs), largest first onto the least-loaded partition, so no task waits on a heavy straggler; each executor
     * JVM loads the checkpoint once ({@link ExecutorModels}).
     */
    public static List<Evaluation> evaluate(SparkSession spark, Key key, List<ArchConfig> configs, int qkv, int vocab) {
        if (configs.isEmpty()) {
            return List.of();
        }
        int slots = JavaSparkContext.fromSparkContext(spark.sparkContext()).defaultParallelism();
        double[] cost = configs.stream().distinct().mapToDouble(c -> cost(c, qkv, vocab)).toArray();
        int batches = batchCount(key);
        return evaluate(spark, key, configs, qkv, vocab, shards(cost, slots, batches), batches);
    }

    /**
     * {@link #evaluate(SparkSession, Key, List, int, int)} with each config's batches split into {@code shards}
     * contiguous pieces. Every batch is computed as in one pass and the driver adds the pieces in batch order, so
     * the losses (and per-sentence NLL) have the same bits whatever the split, the cluster size or the partition.
     */
    public static List<Evaluation> evaluate(SparkSession spark, Key key, List<ArchConfig> configs, int qkv, int vocab,
                                            int shards) {
        return evaluate(spark, key, configs, qkv, vocab, shards, batchCount(key));
    }

    /** The batches an executor cuts this key's sentences into ({@link ExecutorModels#evaluator}). */
    private static int batchCount(Key key) {
        return Batches.byTokens(key.valid(), key.maxTokens()).size();
    }

    private static List<Evaluation> evaluate(SparkSession spark, Key key, List<ArchConfig> configs, int qkv, int vocab,
                                             int shards, int batches) {
        if (configs.isEmpty()) {
            return List.of();
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<int[]> ranges = ranges(batches, shards);
        Map<String, ArchConfig> byHash = new java.util.TreeMap<>(); // by hash: a fixed order, each config once
        configs.forEach(c -> byHash.put(c.hash(), c));
        List<Piece> pieces = new ArrayList<>();
        List<Double> cost = new ArrayList<>();
        for (ArchConfig c : byHash.values()) {
            double each = cost(c, qkv, vocab);
            for (int[] r : ranges) {
                pieces.add(new Piece(c.toJson(), r[0], r[1]));
                cost.add(each * (r[1] - r[0]) / batches);
            }
        }
        int parts = Math.max(1, Math.min(pieces.size(), jsc.defaultParallelism()));
        int[] part = Balance.lpt(cost.stream().mapToDouble(Double::doubleValue).toArray(), parts);
        List<Tuple2<Integer, Piece>> assigned = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            assigned.add(new Tuple2<>(part[i], pieces.get(i)));
        }
        Broadcast<Key> keyB = jsc.broadcast(key);
        List<Part> done = jsc.parallelizePairs(assigned, parts).partitionBy(new HashPartitioner(parts)).mapPartitions(it -> {
            Key k = keyB.value();
            List<Part> out = new ArrayList<>();
            long start = System.nanoTime();
            int partition = TaskContext.getPartitionId();
            try (var lease = ExecutorModels.evaluator(k)) {
                SubnetEvaluator ev = lease.get();
                while (it.hasNext()) {
                    Piece p = it.next()._2();
                    ArchConfig c = ArchConfig.fromJson(p.json());
                    long t0 = System.nanoTime();
                    // the subset keeps its per-sentence NLL, so racing can pair two configs sentence by sentence
                    double[] values = SUBSET.equals(k.fidelity()) ? ev.sentenceNll(c, p.from(), p.to())
                            : ev.batchNll(c, p.from(), p.to());
                    out.add(new Part(c.hash(), p, values, ev.tokens(p.from(), p.to()), (System.nanoTime() - t0) / 1e6,
                            partition, 0));
                }
            }
            double partitionMs = (System.nanoTime() - start) / 1e6;
            return out.stream().map(r -> new Part(r.hash(), r.piece(), r.values(), r.tokens(), r.ms(), partition, partitionMs))
                    .iterator();
        }).collect();
        return merge(done, SUBSET.equals(key.fidelity()));
    }

    /** A task's share of one config: its batches {@code from..to-1}. */
    record Piece(String json, int from, int to) implements Serializable {
    }

    /** A piece's result: per-batch NLL sums (full fidelity) or per-sentence NLL (subset), in batch order. */
    record Part(String hash, Piece piece, double[] values, long tokens, double ms, int partition, double partitionMs)
            implements Serializable {
    }

    /**
     * Each config's pieces joined in batch order, by config hash: loss as one pass computes it; eval_ms the pieces'
     * sum; partition and partition time those of its slowest piece's task.
     */
    static List<Evaluation> merge(List<Part> parts, boolean subset) {
        Map<String, List<Part>> byConfig = new java.util.TreeMap<>();
        parts.forEach(p -> byConfig.computeIfAbsent(p.hash(), h -> new ArrayList<>()).add(p));
        List<Evaluation> out = new ArrayList<>();
        byConfig.forEach((hash, ps) -> {
            ps.sort(Comparator.comparingInt(p -> p.piece().from()));
            double[] values = ps.stream().flatMapToDouble(p -> Arrays.stream(p.values())).toArray();
            long tokens = ps.stream().mapToLong(Part::tokens).sum();
            Part slowest = ps.stream().max(Comparator.comparingDouble(Part::partitionMs)).orElseThrow();
            double loss = subset ? Arrays.stream(values).sum() / tokens : SubnetEvaluator.sumInOrder(values) / tokens;
            out.add(new Evaluation(hash, ps.get(0).piece().json(), loss, ps.stream().mapToDouble(Part::ms).sum(),
                    slowest.partition(), slowest.partitionMs(), tokens, subset ? values : null));
        });
        return out;
    }

    /**
     * How many pieces each config's batches are split into: enough that the costliest config's piece is no larger
     * than an even share of the job per slot, as a job waits for its slowest task (on a large cluster with few
     * configs, one whole evaluation would otherwise be the floor of every generation); at most the batch count.
     */
    static int shards(double[] cost, int slots, int batches) {
        double total = Arrays.stream(cost).sum();
        double max = Arrays.stream(cost).max().orElse(0);
        if (total <= 0) {
            return 1;
        }
        return (int) Math.max(1, Math.min(batches, Math.ceil(max * slots / total - 1e-9)));
    }

    /** {@code n} batches cut into {@code shards} contiguous ranges {from, to} of near-equal length (none empty). */
    static List<int[]> ranges(int n, int shards) {
        int s = Math.max(1, Math.min(n, shards));
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < s; i++) {
            out.add(new int[] {(int) ((long) i * n / s), (int) ((long) (i + 1) * n / s)});
        }
        return out;
    }

    /** A config's relative evaluation cost: forward FLOPs of a typical sentence pair. */
    private static double cost(ArchConfig c, int qkv, int vocab) {
        return Flops.forward(c, qkv, vocab, 1, 30, 30);
    }
}
