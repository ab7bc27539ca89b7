package dev.hatspark.jobs.search;

import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.search.Evolution;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The sweep's predictor: in-process ({@link LatencyPredictor#predictMs}) config by config, except
 * that a generation drawn from the random stream (generation 0, every generation of random search)
 * with more candidates than {@code threshold} has that stream scored first as one Spark job
 * ({@link LatencyPredictor#score}, predict-latency's path) and read from memory. Both paths compute
 * the same doubles, so the sweep's populations do not depend on which one ran.
 */
final class SparkScoring implements ToDoubleFunction<ArchConfig> {
    private static final Logger LOG = LoggerFactory.getLogger(SparkScoring.class);

    private final LatencyPredictor predictor;
    private final long threshold;
    private final Map<String, Double> scored = new HashMap<>();
    private long sparkScored;

    SparkScoring(LatencyPredictor predictor, long threshold) {
        this.predictor = predictor;
        this.threshold = threshold;
    }

    @Override
    public double applyAsDouble(ArchConfig c) {
        Double ms = scored.get(c.hash());
        return ms != null ? ms : predictor.predictMs(c);
    }

    /** Configs scored by Spark jobs so far. */
    long sparkScored() {
        return sparkScored;
    }

    /**
     * Before a generation: if it draws from the random stream and its candidates ({@code population}
     * per budget) exceed the threshold, scores a prefix of that stream on the executors, doubling it
     * until the tightest budget finds its population in it (or 64 populations were drawn; whatever
     * the generation draws beyond falls back to in-process scoring).
     */
    void prepare(SparkSession spark, Evolution evo, DesignSpace space, int generation, boolean random, double[] budgets,
                 int population) {
        scored.clear();
        if ((generation != 0 && !random) || (long) population * budgets.length <= threshold) {
            return;
        }
        double tightest = budgets[0];
        for (double b : budgets) {
            tightest = Math.min(tightest, b);
        }
        SplittableRandom rng = evo.rng(Double.NaN, generation); // the stream Evolution.initial reads
        Map<String, ArchConfig> drawn = new LinkedHashMap<>();
        List<ArchConfig> stream = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int length = population * budgets.length; ; length *= 2) {
            List<ArchConfig> fresh = new ArrayList<>();
            while (stream.size() < length) {
                ArchConfig c = Genetics.sample(space, rng);
                stream.add(c);
                if (drawn.putIfAbsent(c.hash(), c) == null) {
                    fresh.add(c);
                }
            }
            List<String> json = fresh.stream().map(ArchConfig::toJson).toList();
            for (Row r : predictor.score(spark.createDataset(json, Encoders.STRING()).toDF("config_json"))
                    .select("config_hash", "predicted_latency_ms").collectAsList()) {
                scored.put(r.getString(0), r.getDouble(1));
            }
            sparkScored += fresh.size();
            Set<String> fits = new HashSet<>();
            for (ArchConfig c : stream) {
                if (scored.get(c.hash()) <= tightest) {
                    fits.add(c.hash());
                }
            }
            if (fits.size() >= population || length >= 64 * population) {
                break;
            }
        }
        LOG.info(String.format("sweep: generation %d's random stream (%d configs, %d distinct) scored as a Spark job in %.1f s",
                generation, stream.size(), drawn.size(), (System.nanoTime() - t0) / 1e9));
    }
}
