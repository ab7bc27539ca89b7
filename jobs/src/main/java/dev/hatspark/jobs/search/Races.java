package dev.hatspark.jobs.search;

import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.jobs.supernet.Evaluations;
import dev.hatspark.latency.Features;
import dev.hatspark.search.Candidate;
import dev.hatspark.search.Racing;
import dev.hatspark.space.ArchConfig;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sweep's evaluation of a generation, with racing ({@link Racing}) or without (every candidate on
 * the whole validation set, as HAT). What counts as fully evaluated is what this sweep promoted, never
 * what other jobs left in the cache: the cache saves compute, it does not change the race, so a sweep's
 * outcome does not depend on the run root's history. Evaluations are appended marked with the sweep's
 * run and generation, so a generation resumed after a kill counts what it evaluated before the kill
 * as its own (cache_hit and tokens as in an uninterrupted sweep), not as cache hits.
 */
final class Races {
    private final SparkSession spark;
    private final Layout layout;
    private final Evaluations.Key full;
    private final Evaluations.Key subset;
    private final Racing.Params params;
    private final int parents;
    private final int qkv;
    private final int vocab;
    private final Map<String, Double> fullCache;
    private final Map<String, Racing.Subset> subsetCache;
    /** Configs this sweep has promoted to (or, without racing, evaluated on) the whole validation set. */
    private final Set<String> promoted = new HashSet<>();
    /** evaluated_by of this sweep run's evaluations: "sweep <id> <started_at>". */
    private final String runTag;
    /** Config hash → the generation tag of this run's evaluations already in the cache, per fidelity (a resume). */
    private final Map<String, String> ownFull;
    private final Map<String, String> ownSubset;

    Races(SparkSession spark, Layout layout, Evaluations.Key full, Racing.Params params, int parents, int qkv, int vocab,
          String runTag) {
        this.spark = spark;
        this.layout = layout;
        this.full = full;
        this.params = params;
        this.parents = parents;
        this.qkv = qkv;
        this.vocab = vocab;
        this.fullCache = Evaluations.cached(spark, layout, full);
        this.subset = params == null ? null : full.subset(params);
        this.subsetCache = params == null ? new HashMap<>() : Evaluations.cachedSubsets(spark, layout, subset);
        this.runTag = runTag;
        this.ownFull = Evaluations.evaluatedBy(spark, layout, full, runTag + " ");
        this.ownSubset = params == null ? Map.of() : Evaluations.evaluatedBy(spark, layout, subset, runTag + " ");
    }

    /** What generation {@code g} of this run marks its evaluations with. */
    private String tag(int g) {
        return runTag + " generation " + g;
    }

    /** What a generation's evaluation did: fresh configs per fidelity, the races, and task times. */
    record Outcome(Set<String> freshSubset, Set<String> freshFull, Racing.Decision decision, int raced,
                   double slowestTaskS, double meanTaskS, long subsetTokens, long fullTokens) {
        String summary() {
            return decision == null
                    ? String.format("%d evaluated (%d target tokens)", freshFull.size(), fullTokens)
                    : String.format("raced %d (%d evaluated on the subset, %d tokens), promoted %d (%d evaluated in full,"
                    + " %d tokens)", raced, freshSubset.size(), subsetTokens, decision.promoted().size(), freshFull.size(), fullTokens);
        }
    }

    /** Full-set losses of the configs this sweep fully evaluated: what parents and winners are chosen from. */
    Map<String, Double> fullLosses() {
        Map<String, Double> m = new HashMap<>();
        promoted.forEach(h -> m.put(h, fullCache.get(h)));
        return m;
    }

    /** After a restart: every config the committed generations hold at full fidelity. */
    void resume(List<Row> population) {
        population.stream().filter(r -> "full".equals(r.getString(r.fieldIndex("fidelity"))))
                .forEach(r -> promoted.add(r.getString(r.fieldIndex("config_hash"))));
    }

    /**
     * Evaluates generation {@code g}: subset first and promotions to the full set with racing, else all in
     * full. Fresh are the configs it evaluates now or, resumed, evaluated before the kill.
     */
    Outcome evaluate(int g, Map<Double, List<Candidate>> generation, Map<String, ArchConfig> unique, String label) {
        String tag = tag(g);
        double[] task = new double[2];
        Set<String> freshSubset = new HashSet<>();
        Racing.Decision decision = null;
        int raced = 0;
        Set<String> toFull;
        if (params == null) {
            toFull = unique.keySet();
        } else {
            Set<String> need = Racing.subsetNeeded(generation);
            raced = (int) need.stream().filter(h -> !promoted.contains(h)).count();
            List<ArchConfig> todo = need.stream().filter(h -> !subsetCache.containsKey(h)).map(unique::get).toList();
            need.stream().filter(h -> tag.equals(ownSubset.get(h))).forEach(freshSubset::add);
            for (Evaluations.Evaluation e : run(subset, todo, label + ": race " + todo.size() + " configs on the subset", tag, task)) {
                subsetCache.put(e.configHash(), new Racing.Subset(e.sentenceNll(), e.tokens()));
                freshSubset.add(e.configHash());
            }
            decision = Racing.decide(generation, parents, promoted, subsetCache, params.k());
            toFull = decision.promoted();
        }
        List<ArchConfig> todo = toFull.stream().filter(h -> !fullCache.containsKey(h)).map(unique::get).toList();
        Set<String> freshFull = new HashSet<>();
        toFull.stream().filter(h -> tag.equals(ownFull.get(h))).forEach(freshFull::add);
        for (Evaluations.Evaluation e : run(full, todo, label + ": evaluate " + todo.size() + " configs", tag, task)) {
            fullCache.put(e.configHash(), e.valLoss());
            freshFull.add(e.configHash());
        }
        promoted.addAll(toFull);
        long subsetTokens = subset == null ? 0 : freshSubset.size() * tokens(subset);
        return new Outcome(freshSubset, freshFull, decision, raced, task[0], task[1], subsetTokens,
                freshFull.size() * tokens(full));
    }

    private static long tokens(Evaluations.Key k) {
        return k.valid().stream().mapToLong(p -> p[1].length + 1).sum(); // + EOS, as the evaluator counts
    }

    /** One Spark job; appends to the cache; adds its slowest and mean task seconds to {@code task}. */
    private List<Evaluations.Evaluation> run(Evaluations.Key key, List<ArchConfig> todo, String description, String tag,
                                             double[] task) {
        // names the generation's job in the Spark UI and event logs (YARN, EMR, History Server)
        spark.sparkContext().setJobDescription(description);
        List<Evaluations.Evaluation> fresh = Evaluations.evaluate(spark, key, todo, qkv, vocab);
        spark.sparkContext().setJobDescription(null);
        Evaluations.append(spark, layout, key, fresh, tag);
        Map<Integer, Double> partMs = new HashMap<>();
        fresh.forEach(e -> partMs.put(e.partition(), e.partitionMs()));
        task[0] += partMs.values().stream().mapToDouble(Double::doubleValue).max().orElse(0) / 1e3;
        task[1] += partMs.values().stream().mapToDouble(Double::doubleValue).average().orElse(0) / 1e3;
        return fresh;
    }

    /** The generation's rows of population/: full-set loss where this sweep has one, the race otherwise. */
    List<Row> populationRows(String id, int g, Map<Double, List<Candidate>> pop, Outcome out) {
        long subsetTokens = subset == null ? 0 : tokens(subset);
        long fullTokens = tokens(full);
        List<Row> rows = new ArrayList<>();
        pop.forEach((b, list) -> {
            Racing.Race race = out.decision() == null ? null : out.decision().races().get(b);
            for (int i = 0; i < list.size(); i++) {
                Candidate c = list.get(i);
                String h = c.hash();
                ArchConfig a = c.config();
                double ffn = Features.hat10(a)[6]; // HAT's mean decoder FFN dim
                boolean isFull = promoted.contains(h);
                Racing.Subset s = subsetCache.get(h);
                Racing.Difference d = race == null ? null : race.differences().get(h);
                boolean fresh = isFull ? out.freshFull().contains(h) : out.freshSubset().contains(h);
                rows.add(RowFactory.create(id, b, g, i, h, a.toJson(), a.encoderEmbedDim(), a.encoderLayerNum(),
                        a.decoderEmbedDim(), a.decoderLayerNum(), ffn, c.predictedMs(), isFull ? fullCache.get(h) : null,
                        c.origin(), c.parentHashes().toArray(new String[0]), !fresh,
                        isFull ? Evaluations.FULL : Evaluations.SUBSET, s == null ? null : s.loss(),
                        d == null ? null : d.mean() - params.k() * d.se(),
                        out.freshSubset().contains(h) ? subsetTokens : 0L, out.freshFull().contains(h) ? fullTokens : 0L));
            }
        });
        return rows;
    }

    /** Target tokens this sweep evaluated so far, {subset, full}: each (generation, config) counted once. */
    static long[] tokens(SparkSession spark, Fs fs, String population) {
        if (!fs.exists(population)) {
            return new long[] {0, 0};
        }
        Row r = spark.read().parquet(population).select("generation", "config_hash", "subset_tokens", "full_tokens")
                .distinct().selectExpr("coalesce(sum(subset_tokens), 0)", "coalesce(sum(full_tokens), 0)").first();
        return new long[] {r.getLong(0), r.getLong(1)};
    }
}
