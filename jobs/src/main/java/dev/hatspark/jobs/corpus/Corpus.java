package dev.hatspark.jobs.corpus;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.util.Ids;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/** Reads encoded pairs of one split from corpus/pairs onto the driver, in a stable order (by ref). */
public final class Corpus {
    private Corpus() {
    }

    /**
     * A validation set and its content id ({@code <target vocabulary>:valid:<pairs>:<sha of the ids>}):
     * the evaluation cache's key, equal for every job that evaluates on the same sentences.
     */
    public record ValidSet(String id, List<int[][]> pairs) implements java.io.Serializable {
        /** The pairs at these indices, with their own content id (so their cached losses are shared by content). */
        public ValidSet subset(int[] indices) {
            List<int[][]> sub = new ArrayList<>();
            for (int i : indices) {
                sub.add(pairs.get(i));
            }
            String vocab = id.substring(0, Math.max(0, id.indexOf(":valid:")));
            return new ValidSet(vocab + ":valid-subset:" + sub.size() + ":" + Ids.shaOfPairs(sub), sub);
        }
    }

    /** The first {@code limit} validation pairs by ref (0 = all), whatever their length. */
    public static ValidSet validation(SparkSession spark, Layout layout, int limit) {
        List<int[][]> pairs = pairs(spark, layout, "valid", Integer.MAX_VALUE, limit);
        CorpusMeta meta = CorpusMeta.read(new Fs(spark.sparkContext().hadoopConfiguration()), layout);
        return new ValidSet(meta.tgtVocabFingerprint() + ":valid:" + pairs.size() + ":" + Ids.shaOfPairs(pairs), pairs);
    }

    public static List<int[][]> pairs(SparkSession spark, Layout layout, String split, int maxLen, int limit) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        if (!fs.hasCurrent(layout.corpusPairs())) {
            throw new BadInputException(layout.corpusPairs() + " does not exist: run prepare-corpus for run root "
                    + layout.root() + " first");
        }
        var rows = spark.read().parquet(fs.current(layout.corpusPairs())).where(col("split").equalTo(split))
                .where(org.apache.spark.sql.functions.size(col("src_ids")).between(1, maxLen))
                .where(org.apache.spark.sql.functions.size(col("tgt_ids")).between(1, maxLen))
                .orderBy("ref");
        if (limit > 0) {
            rows = rows.limit(limit);
        }
        List<int[][]> out = new ArrayList<>();
        for (Row r : rows.collectAsList()) {
            out.add(new int[][] {ints(r.getList(2)), ints(r.getList(3))});
        }
        if (out.isEmpty()) {
            throw new BadInputException(layout.corpusPairs() + ": split '" + split + "' has no pairs of 1.."
                    + maxLen + " tokens");
        }
        return out;
    }

    private static int[] ints(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
