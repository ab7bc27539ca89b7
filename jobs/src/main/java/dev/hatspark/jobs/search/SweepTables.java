package dev.hatspark.jobs.search;

import dev.hatspark.jobs.store.Tables;
import dev.hatspark.search.Pareto;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * best/ and front/ of a sweep, computed on the driver from its population rows (population × budgets ×
 * generations, a few hundred thousand at HAT's scale) instead of scanning population/ with Spark every
 * generation: those scans and their shuffles were most of a generation's Spark overhead on the demo.
 */
final class SweepTables {
    private static final StructType P = Tables.SWEEP_POPULATION;
    private static final int ID = P.fieldIndex("sweep_id");
    private static final int BUDGET = P.fieldIndex("budget_ms");
    private static final int GENERATION = P.fieldIndex("generation");
    private static final int HASH = P.fieldIndex("config_hash");
    private static final int JSON = P.fieldIndex("config_json");
    private static final int PREDICTED = P.fieldIndex("predicted_latency_ms");
    private static final int LOSS = P.fieldIndex("val_loss");

    /** Ties of loss go to the lower config hash, then the earlier generation. */
    private static final Comparator<Row> BETTER = Comparator.<Row>comparingDouble(r -> r.getDouble(LOSS))
            .thenComparing(r -> r.getString(HASH)).thenComparingInt(r -> r.getInt(GENERATION));

    private SweepTables() {
    }

    /** SWEEP_BEST rows, by budget: per budget the row of lowest full-set loss of any generation. */
    static List<Row> best(List<Row> population) {
        Map<Double, Row> best = new TreeMap<>();
        for (Row r : population) {
            if (!r.isNullAt(LOSS)) {
                best.merge(r.getDouble(BUDGET), r, (a, b) -> BETTER.compare(a, b) <= 0 ? a : b);
            }
        }
        List<Row> out = new ArrayList<>();
        best.values().forEach(r -> out.add(RowFactory.create(r.getString(ID), r.getDouble(BUDGET), r.getString(HASH),
                r.getString(JSON), r.getDouble(PREDICTED), r.getDouble(LOSS), r.getInt(GENERATION))));
        return out;
    }

    /** SWEEP_FRONT rows: the latency/loss Pareto front ({@link Pareto#front}) of every config with a full-set loss. */
    static List<Row> front(List<Row> population, String id) {
        Map<String, Row> first = new LinkedHashMap<>(); // per config its earliest row (same config, same loss and latency)
        for (Row r : population) {
            if (!r.isNullAt(LOSS)) {
                first.merge(r.getString(HASH), r, (a, b) -> a.getInt(GENERATION) <= b.getInt(GENERATION) ? a : b);
            }
        }
        List<Pareto.Point> points = new ArrayList<>();
        first.forEach((h, r) -> points.add(new Pareto.Point(r.getDouble(PREDICTED), r.getDouble(LOSS), h)));
        List<Row> out = new ArrayList<>();
        for (Pareto.Point p : Pareto.front(points)) {
            Row r = first.get(p.id());
            out.add(RowFactory.create(id, p.id(), r.getString(JSON), p.latencyMs(), p.loss(), r.getInt(GENERATION)));
        }
        return out;
    }
}
