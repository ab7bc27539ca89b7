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
import java.util.LinkedHashSet;
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
    /** The racing stages' keys (the sentences each adds), then the rest of the set; empty without racing. */
    private final List<Evaluations.Key> stages = new ArrayList<>();
    private final Evaluations.Key rest;
    private final Racing.Params params;
    private final int parents;
    private final int qkv;
    private final int vocab;
    private final Map<String, Double> fullCache;
    /** Per stage: config hash → its result on the sentences that stage adds. */
    private final List<Map<String, Racing.Subset>> stageCache = new ArrayList<>();
    /** Configs this sweep has promoted to (or, without racing, evaluated on) the whole validation set. */
    private final Set<String> promoted = new HashSet<>();
    /** Config hash → the deepest racing stage (1-based) this sweep has scored it on. */
    private final Map<String, Integer> deepest = new HashMap<>();
    /** evaluated_by of this sweep run's evaluations: "sweep <id> <started_at>". */
    private final String runTag;
    /** Config hash → the generation tag of this run's evaluations already in the cache, per key (a resume). */
    private final Map<String, String> ownFull;
    private final List<Map<String, String>> ownStage = new ArrayList<>();
    /**
     * Cache rows of this generation's evaluations, not yet in evaluations/: the sweep appends them in the
     * generation's background commit, just before its population (one write instead of one per job, off the
     * generation's critical path; a kill before it only costs their recomputation).
     */
    private final List<Row> pendingCache = new ArrayList<>();

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
        this.runTag = runTag;
        this.ownFull = Evaluations.evaluatedBy(spark, layout, full, runTag + " ");
        List<Evaluations.Key> parts = params == null ? List.of() : full.parts(params);
        this.rest = parts.isEmpty() ? null : parts.get(parts.size() - 1);
        for (Evaluations.Key k : parts.subList(0, Math.max(0, parts.size() - 1))) {
            stages.add(k);
            stageCache.add(Evaluations.cachedSubsets(spark, layout, k));
            ownStage.add(Evaluations.evaluatedBy(spark, layout, k, runTag + " "));
        }
    }

    /** What generation {@code g} of this run marks its evaluations with. */
    private String tag(int g) {
        return runTag + " generation " + g;
    }

    /**
     * What a generation's evaluation did: per config the target tokens of racing stages it scored (fresh), the
     * configs it evaluated in full (fresh), each stage's decision, and task times.
     */
    record Outcome(Map<String, Long> freshStages, Set<String> freshFull, List<Racing.Decision> decisions,
                   Map<String, Integer> decidedAt, int raced, int[] scored, double slowestTaskS, double meanTaskS,
                   long stageTokens, long fullTokens) {
        String summary() {
            if (decisions.isEmpty()) {
                return String.format("%d evaluated (%d target tokens)", freshFull.size(), fullTokens);
            }
            StringBuilder sb = new StringBuilder("raced " + raced);
            for (int s = 0; s < decisions.size(); s++) {
                sb.append(String.format(", stage %d: %d scored, %d promoted", s + 1, scored[s], decisions.get(s).promoted().size()));
            }
            return sb.append(String.format(" (%d racing tokens); %d evaluated in full (%d tokens)", stageTokens, freshFull.size(),
                    fullTokens)).toString();
        }
    }

    /** Full-set losses of the configs this sweep fully evaluated: what parents and winners are chosen from. */
    Map<String, Double> fullLosses() {
        Map<String, Double> m = new HashMap<>();
        promoted.forEach(h -> m.put(h, fullCache.get(h)));
        return m;
    }

    /** After a restart: every config the committed generations hold at full fidelity, and how far each was raced. */
    void resume(List<Row> population) {
        for (Row r : population) {
            String h = r.getString(r.fieldIndex("config_hash"));
            if ("full".equals(r.getString(r.fieldIndex("fidelity")))) {
                promoted.add(h);
            }
            int i = r.fieldIndex("racing_stage");
            if (!r.isNullAt(i)) {
                deepest.merge(h, r.getInt(i), Math::max);
            }
        }
    }

    /** A config's result on the sentences of stages 0..s together. */
    private Racing.Subset upTo(String h, int s) {
        Racing.Subset out = stageCache.get(0).get(h);
        for (int i = 1; i <= s; i++) {
            out = out.then(stageCache.get(i).get(h));
        }
        return out;
    }

    /**
     * Evaluates generation {@code g} ({@code last}: the sweep's last, after which no parents are picked). With
     * racing, every stage scores the configs still in the race on its sentences and races them; the last stage's promotions are scored on the rest, and their full-set loss
     * is the sum over all parts. Without, all in full. Fresh are the configs it evaluates now or, resumed,
     * evaluated before the kill.
     */
    Outcome evaluate(int g, boolean last, Map<Double, List<Candidate>> generation, Map<String, ArchConfig> unique, String label) {
        String tag = tag(g);
        double[] task = new double[2];
        Map<String, Long> freshStages = new HashMap<>();
        List<Racing.Decision> decisions = new ArrayList<>();
        Map<String, Integer> decidedAt = new HashMap<>();
        int[] scored = new int[stages.size()];
        int raced = 0;
        Set<String> toFull;
        if (params == null) {
            toFull = unique.keySet();
        } else {
            Set<String> alive = new LinkedHashSet<>(Racing.subsetNeeded(generation));
            raced = (int) alive.stream().filter(h -> !promoted.contains(h)).count();
            for (int s = 0; s < stages.size(); s++) {
                Evaluations.Key key = stages.get(s);
                Map<String, Racing.Subset> cache = stageCache.get(s);
                long tokens = key.tokens();
                Map<String, String> own = ownStage.get(s);
                Set<String> fresh = new HashSet<>();
                alive.stream().filter(h -> tag.equals(own.get(h))).forEach(fresh::add);
                List<ArchConfig> todo = alive.stream().filter(h -> !cache.containsKey(h)).map(unique::get).toList();
                String what = String.format("%s: racing stage %d/%d, %d configs on %d sentences", label, s + 1, stages.size(),
                        todo.size(), key.valid().size());
                for (Evaluations.Evaluation e : run(key, todo, what, tag, task, true)) {
                    cache.put(e.configHash(), new Racing.Subset(e.sentenceNll(), e.tokens()));
                    fresh.add(e.configHash());
                }
                fresh.forEach(h -> freshStages.merge(h, tokens, Long::sum));
                scored[s] = fresh.size();
                Map<String, Racing.Subset> sofar = new HashMap<>();
                for (String h : alive) {
                    sofar.put(h, upTo(h, s));
                }
                Racing.Decision d = Racing.decide(only(generation, alive), parents, fullLosses(), sofar, params, full.valid().size(), last);
                decisions.add(d);
                for (String h : alive) {
                    if (!promoted.contains(h)) {
                        deepest.merge(h, s + 1, Math::max);
                        decidedAt.put(h, s);
                    }
                }
                Set<String> next = new LinkedHashSet<>(d.promoted());
                alive.stream().filter(promoted::contains).forEach(next::add); // fully evaluated: still ranked
                alive = next;
            }
            toFull = decisions.get(decisions.size() - 1).promoted();
        }
        List<String> todo = toFull.stream().filter(h -> !fullCache.containsKey(h)).sorted().toList();
        Set<String> freshFull = new HashSet<>();
        toFull.stream().filter(h -> tag.equals(ownFull.get(h))).forEach(freshFull::add);
        List<Evaluations.Evaluation> done = params == null
                ? run(full, todo.stream().map(unique::get).toList(), label + ": evaluate " + todo.size() + " configs", tag, task, true)
                : completeInFull(todo, unique, label, tag, task);
        for (Evaluations.Evaluation e : done) {
            fullCache.put(e.configHash(), e.valLoss());
            freshFull.add(e.configHash());
        }
        promoted.addAll(toFull);
        long stageTokens = freshStages.values().stream().mapToLong(Long::longValue).sum();
        return new Outcome(freshStages, freshFull, decisions, decidedAt, raced, scored, task[0], task[1], stageTokens,
                freshFull.size() * fullTokensEach());
    }

    /**
     * Full-set losses of racing's last promotions: scored on the rest of the set, summed with their stages'
     * results, and appended to the cache as full-set rows (the parts of the rest are not kept on their own).
     */
    private List<Evaluations.Evaluation> completeInFull(List<String> todo, Map<String, ArchConfig> unique, String label,
                                                        String tag, double[] task) {
        int last = stages.size() - 1;
        List<Evaluations.Evaluation> out = new ArrayList<>();
        if (rest.valid().isEmpty()) { // the last stage held the whole set
            for (String h : todo) {
                Racing.Subset all = upTo(h, last);
                out.add(new Evaluations.Evaluation(h, unique.get(h).toJson(), all.loss(), 0, 0, 0, all.tokens(), null));
            }
        } else {
            String what = String.format("%s: evaluate %d configs in full (the other %d sentences)", label, todo.size(),
                    rest.valid().size());
            for (Evaluations.Evaluation e : run(rest, todo.stream().map(unique::get).toList(), what, tag, task, false)) {
                Racing.Subset all = upTo(e.configHash(), last).then(new Racing.Subset(e.sentenceNll(), e.tokens()));
                out.add(new Evaluations.Evaluation(e.configHash(), e.configJson(), all.loss(), e.evalMs(), e.partition(),
                        e.partitionMs(), all.tokens(), null));
            }
        }
        pendingCache.addAll(Evaluations.rows(full, out, tag));
        return out;
    }

    /** The cache rows the evaluations since the last call produced, for the generation's commit to append. */
    List<Row> takeCacheRows() {
        List<Row> rows = List.copyOf(pendingCache);
        pendingCache.clear();
        return rows;
    }

    /** Target tokens a full evaluation scores: the whole set, or with racing only the rest after the stages. */
    private long fullTokensEach() {
        return (params == null ? full : rest).tokens();
    }

    /** The generation with only the candidates in {@code alive}, per budget. */
    private static Map<Double, List<Candidate>> only(Map<Double, List<Candidate>> generation, Set<String> alive) {
        Map<Double, List<Candidate>> out = new java.util.TreeMap<>();
        generation.forEach((b, list) -> out.put(b, list.stream().filter(c -> alive.contains(c.hash())).toList()));
        return out;
    }

    /**
     * One Spark job, its results kept for the cache ({@link #takeCacheRows}) when {@code append}; adds its slowest and
     * mean task seconds to {@code task}.
     */
    private List<Evaluations.Evaluation> run(Evaluations.Key key, List<ArchConfig> todo, String description, String tag,
                                             double[] task, boolean append) {
        // names the generation's job in the Spark UI and event logs (YARN, EMR, History Server)
        spark.sparkContext().setJobDescription(description);
        List<Evaluations.Evaluation> fresh = Evaluations.evaluate(spark, key, todo, qkv, vocab);
        spark.sparkContext().setJobDescription(null);
        if (append) {
            pendingCache.addAll(Evaluations.rows(key, fresh, tag));
        }
        Map<Integer, Double> partMs = new HashMap<>();
        fresh.forEach(e -> partMs.put(e.partition(), e.partitionMs()));
        task[0] += partMs.values().stream().mapToDouble(Double::doubleValue).max().orElse(0) / 1e3;
        task[1] += partMs.values().stream().mapToDouble(Double::doubleValue).average().orElse(0) / 1e3;
        return fresh;
    }

    /** The generation's rows of population/: full-set loss where this sweep has one, the race otherwise. */
    List<Row> populationRows(String id, int g, Map<Double, List<Candidate>> pop, Outcome out) {
        long fullTokens = fullTokensEach();
        long[] cumulative = new long[stages.size()];
        for (int s = 0; s < stages.size(); s++) {
            cumulative[s] = (s == 0 ? 0 : cumulative[s - 1]) + stages.get(s).tokens();
        }
        List<Row> rows = new ArrayList<>();
        pop.forEach((b, list) -> {
            for (int i = 0; i < list.size(); i++) {
                Candidate c = list.get(i);
                String h = c.hash();
                ArchConfig a = c.config();
                double ffn = Features.hat10(a)[6]; // HAT's mean decoder FFN dim
                boolean isFull = promoted.contains(h);
                Racing.Subset s = stageCache.isEmpty() ? null : stageCache.get(0).get(h);
                Integer at = out.decidedAt().get(h);
                Racing.Race race = at == null ? null : out.decisions().get(at).races().get(b);
                Racing.Difference d = race == null ? null : race.differences().get(h);
                Integer stage = deepest.get(h);
                boolean fresh = isFull ? out.freshFull().contains(h) : out.freshStages().containsKey(h);
                rows.add(RowFactory.create(id, b, g, i, h, a.toJson(), a.encoderEmbedDim(), a.encoderLayerNum(),
                        a.decoderEmbedDim(), a.decoderLayerNum(), ffn, c.predictedMs(), isFull ? fullCache.get(h) : null,
                        c.origin(), c.parentHashes().toArray(new String[0]), !fresh,
                        isFull ? Evaluations.FULL : Evaluations.SUBSET, s == null ? null : s.loss(),
                        d == null ? null : d.mean() - params.k() * d.se() + params.delta(),
                        out.freshStages().getOrDefault(h, 0L), out.freshFull().contains(h) ? fullTokens : 0L,
                        stage, stage == null ? null : cumulative[stage - 1]));
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
