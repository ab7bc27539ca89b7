package dev.hatspark.jobs.corpus;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.util.BadInputException;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The parallel text a corpus is prepared from: a TSV ({@code ref, src, tgt} with header, gzip or not,
 * or {@link #BUILTIN}) or two line-aligned text files. Recorded in {@code corpus/_corpus.json}, so
 * evaluate can read the raw reference text again.
 */
public record CorpusInput(String tsv, String srcFile, String tgtFile, String fairseqDataBin, String fairseqPair)
        implements Serializable {
    public static final String BUILTIN = "builtin:bible";
    static final String HEADER = "ref\tsrc\ttgt";

    /** Raw text input (older _corpus.json files have only these three fields). */
    public CorpusInput(String tsv, String srcFile, String tgtFile) {
        this(tsv, srcFile, tgtFile, null, null);
    }

    /** A fairseq data-bin folder and its language pair ("src-tgt"). */
    public static CorpusInput fairseq(String folder, String pair) {
        return new CorpusInput(null, null, null, folder, pair);
    }

    /** True for a corpus read from a fairseq data-bin: no raw text, the dictionary is the vocabulary. */
    @JsonIgnore
    public boolean isFairseq() {
        return fairseqDataBin != null;
    }

    /** For messages and logs. */
    @JsonIgnore
    public String describe() {
        if (isFairseq()) {
            return "fairseq data-bin " + fairseqDataBin + " (" + fairseqPair + ")";
        }
        return tsv != null ? tsv : srcFile + " and " + tgtFile;
    }

    /** Rows of {ref, src, tgt}; bad rows fail the job with the file and the offending line. */
    public JavaRDD<String[]> read(SparkSession spark, Fs fs) {
        if (isFairseq()) {
            throw new IllegalStateException(describe() + " has no raw text; read its pairs with FairseqCorpus");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (tsv == null) {
            if (srcFile == null || tgtFile == null) {
                throw new BadInputException("--src-file and --tgt-file go together; got only one");
            }
            requireExists(fs, srcFile);
            requireExists(fs, tgtFile);
            JavaPairRDD<Long, String> src = textLines(jsc, srcFile).zipWithIndex().mapToPair(t -> new Tuple2<>(t._2, t._1));
            JavaPairRDD<Long, String> tgt = textLines(jsc, tgtFile).zipWithIndex().mapToPair(t -> new Tuple2<>(t._2, t._1));
            long ns = src.count();
            long nt = tgt.count();
            if (ns != nt) {
                throw new BadInputException(srcFile + " has " + ns + " lines but " + tgtFile + " has " + nt
                        + "; the two sides must be line-aligned");
            }
            return src.join(tgt).sortByKey().map(t -> new String[] {"line " + (t._1 + 1), t._2._1, t._2._2});
        }
        JavaRDD<String> lines;
        if (tsv.equals(BUILTIN)) {
            List<String> all = builtinLines();
            lines = jsc.parallelize(all, Math.max(4, all.size() / 2000)); // small tasks: no oversized-task warnings
        } else {
            requireExists(fs, tsv);
            lines = textLines(jsc, tsv);
        }
        String source = tsv;
        List<String> first;
        try {
            first = lines.take(1);
        } catch (Exception e) { // e.g. a denied s3a read, surfacing from a Spark task
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BadInputException bad) {
                    throw bad;
                }
            }
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new BadInputException("corpus input " + source + " cannot be read: " + root.getMessage(), e);
        }
        if (first.isEmpty() || !first.get(0).equals(HEADER)) {
            throw new BadInputException(source + ": line 1 must be the header 'ref<TAB>src<TAB>tgt', got '"
                    + (first.isEmpty() ? "" : abbreviate(first.get(0))) + "'");
        }
        JavaRDD<String> body = lines.filter(l -> !l.equals(HEADER) && !l.isBlank());
        List<String> bad = body.filter(l -> l.split("\t", -1).length != 3).take(1);
        if (!bad.isEmpty()) {
            throw new BadInputException(source + ": row '" + abbreviate(bad.get(0)) + "' has "
                    + bad.get(0).split("\t", -1).length + " tab-separated fields, expected 3 (ref, src, tgt)");
        }
        return body.map(l -> l.split("\t", -1));
    }

    /**
     * The lines of a text file (gzip or other Hadoop codecs decompressed), as {@code textFile} reads
     * them, but a file that cannot be read to its end (a truncated or corrupt .gz) or a line that is
     * not UTF-8 fails the job in one line naming the file and where reading stopped.
     */
    public static JavaRDD<String> textLines(JavaSparkContext jsc, String path) {
        return jsc.hadoopFile(path, TextInputFormat.class, LongWritable.class, Text.class)
                .mapPartitionsWithIndex((part, it) -> new CheckedLines(path, part, it), true);
    }

    /** Iterates a split's lines; the line number is exact for the first split (a whole .gz is one split). */
    private static final class CheckedLines implements Iterator<String> {
        private final String path;
        private final int part;
        private final Iterator<Tuple2<LongWritable, Text>> in;
        private long line;
        private long offset;

        CheckedLines(String path, int part, Iterator<Tuple2<LongWritable, Text>> in) {
            this.path = path;
            this.part = part;
            this.in = in;
        }

        @Override
        public boolean hasNext() {
            try {
                return in.hasNext();
            } catch (Exception e) { // the codec's IOException, thrown through Scala unchecked (EOFException for a cut .gz) the codec's IOException (EOFException for a cut .gz)
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                throw new BadInputException(path + ": cannot read past " + where() + " ("
                        + (root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName())
                        + "); the file is truncated or corrupt", e);
            }
        }

        @Override
        public String next() {
            Tuple2<LongWritable, Text> t = in.next();
            line++;
            offset = t._1.get();
            Text text = t._2;
            try { // strict, unlike Text.toString (which substitutes U+FFFD) and Text.validateUTF8 (misses a cut last character)
                return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(text.getBytes(), 0, text.getLength()))
                        .toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new BadInputException(path + ": " + where() + " is not UTF-8 text; convert the file to UTF-8");
            }
        }

        private String where() {
            if (line == 0) {
                return "its start";
            }
            return (part == 0 ? "line " + line : "the line") + " at byte " + offset
                    + (path.endsWith(".gz") || path.endsWith(".bz2") ? " of the decompressed text" : "");
        }
    }

    private static void requireExists(Fs fs, String path) {
        if (!fs.exists(path)) {
            throw new BadInputException("corpus input " + path + " does not exist");
        }
    }

    public static List<String> builtinLines() {
        try (InputStream in = CorpusInput.class.getResourceAsStream("/corpus/bible-kjv-rv1909.en-es.tsv.gz")) {
            if (in == null) {
                throw new IllegalStateException("the bundled corpus is missing from the jar");
            }
            String text = new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8);
            return new ArrayList<>(Arrays.asList(text.split("\n")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
