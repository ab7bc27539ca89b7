package dev.hatspark.jobs;

import dev.hatspark.corpus.Bpe;
import dev.hatspark.corpus.Pretokenizer;
import dev.hatspark.corpus.Splits;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import scala.Tuple2;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * prepare-corpus: parallel text → deterministic train/valid/test split (hash of ref) → BPE learned on
 * the train split only → encoded Parquet {@code corpus/pairs} plus {@code corpus/vocab/}.
 */
@Command(name = "prepare-corpus", mixinStandardHelpOptions = true,
        description = "Split, learn a BPE vocabulary on the train split, encode, write corpus/ Parquet.")
public final class PrepareCorpus implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(PrepareCorpus.class);
    static final String BUILTIN = "builtin:bible";
    static final String HEADER = "ref\tsrc\ttgt";

    @Mixin
    RunOptions run = new RunOptions();

    @Option(names = "--input", description = "TSV (ref, src, tgt; header; .gz ok) on any Hadoop path, or ${DEFAULT-VALUE} (the bundled Bible corpus). Default: ${DEFAULT-VALUE}")
    String input = BUILTIN;

    @Option(names = "--src-file", description = "Source side as line-aligned text (use with --tgt-file instead of --input)")
    String srcFile;

    @Option(names = "--tgt-file", description = "Target side as line-aligned text")
    String tgtFile;

    @Option(names = "--vocab-size", description = "BPE vocabulary size per vocabulary. Default: ${DEFAULT-VALUE}")
    int vocabSize = 8000;

    @Option(names = "--vocab", description = "joint (one vocabulary, shared embeddings) or separate. Default: ${DEFAULT-VALUE}")
    String vocab = "joint";

    @Option(names = "--min-char-count", description = "Rarer characters become <unk>. Default: ${DEFAULT-VALUE}")
    int minCharCount = 2;

    @Option(names = "--valid-fraction", description = "Default: ${DEFAULT-VALUE}")
    double validFraction = 0.01;

    @Option(names = "--test-fraction", description = "Default: ${DEFAULT-VALUE}")
    double testFraction = 0.01;

    @Option(names = "--limit", description = "Keep only the first N pairs (tests, quick trials); 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Override
    public String name() {
        return "prepare-corpus";
    }

    @Override
    public Object run(SparkSession spark) {
        if (!vocab.equals("joint") && !vocab.equals("separate")) {
            throw new IllegalArgumentException("--vocab must be joint or separate, got '" + vocab + "'");
        }
        Splits.splitOf("check", validFraction, testFraction);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        double vf = validFraction;
        double tf = testFraction;

        JavaRDD<String[]> pairs = readPairs(spark, fs);
        if (limit > 0) {
            pairs = jsc.parallelize(pairs.take(limit));
        }
        JavaRDD<String[]> withSplit = pairs.map(p -> new String[] {Splits.splitOf(p[0], vf, tf), p[0], p[1], p[2]}).cache();
        long duplicates = withSplit.count() - withSplit.map(p -> p[1]).distinct().count();
        if (duplicates > 0) {
            throw new IllegalArgumentException(describeInput() + ": " + duplicates
                    + " duplicate values in column 'ref'; refs must be unique (they decide the split)");
        }
        JavaRDD<String[]> train = withSplit.filter(p -> p[0].equals("train"));
        boolean joint = vocab.equals("joint");
        Bpe srcBpe;
        Bpe tgtBpe;
        if (joint) {
            srcBpe = learn(train.flatMap(p -> List.of(p[2], p[3]).iterator()), "joint");
            tgtBpe = srcBpe;
        } else {
            srcBpe = learn(train.map(p -> p[2]), "src");
            tgtBpe = learn(train.map(p -> p[3]), "tgt");
        }
        Broadcast<byte[]> srcBytes = jsc.broadcast(bytes(srcBpe));
        Broadcast<byte[]> tgtBytes = jsc.broadcast(bytes(tgtBpe));
        JavaRDD<Row> rows = withSplit.map(p -> RowFactory.create(p[0], p[1],
                boxed(cached(srcBytes.value()).encode(p[2])), boxed(cached(tgtBytes.value()).encode(p[3]))));
        StructType schema = new StructType()
                .add("split", DataTypes.StringType, false)
                .add("ref", DataTypes.StringType, false)
                .add("src_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
                .add("tgt_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false);
        Dataset<Row> table = spark.createDataFrame(rows, schema).repartition(4).sortWithinPartitions("split", "ref");
        fs.writeParquet(table, layout.corpusPairs());

        if (joint) {
            fs.write(layout.corpusVocab("joint"), bytes(srcBpe));
        } else {
            fs.write(layout.corpusVocab("src"), bytes(srcBpe));
            fs.write(layout.corpusVocab("tgt"), bytes(tgtBpe));
        }
        Map<String, Long> counts = new HashMap<>(withSplit.map(p -> p[0]).countByValue());
        CorpusMeta meta = new CorpusMeta(joint, srcBpe.fingerprint(), tgtBpe.fingerprint(), srcBpe.vocab().size(),
                tgtBpe.vocab().size(), counts.getOrDefault("train", 0L), counts.getOrDefault("valid", 0L),
                counts.getOrDefault("test", 0L), validFraction, testFraction, describeInput());
        fs.writeText(layout.corpusMeta(), meta.toJson());
        withSplit.unpersist();
        LOG.info("corpus: {} train / {} valid / {} test pairs, vocab {} ({} tokens) -> {}", meta.train(), meta.valid(),
                meta.test(), vocab, srcBpe.vocab().size(), layout.corpusPairs());
        return meta;
    }

    private String describeInput() {
        return srcFile != null ? srcFile + " + " + tgtFile : input;
    }

    /**
     * The raw rows {ref, src, tgt} of the input a corpus was prepared from, as {@link CorpusMeta#input()}
     * names it (evaluate scores BLEU against the raw reference text).
     */
    static JavaRDD<String[]> rawPairs(SparkSession spark, Fs fs, String describedInput) {
        PrepareCorpus p = new PrepareCorpus();
        int plus = describedInput.indexOf(" + ");
        if (plus >= 0) {
            p.srcFile = describedInput.substring(0, plus);
            p.tgtFile = describedInput.substring(plus + 3);
        } else {
            p.input = describedInput;
        }
        return p.readPairs(spark, fs);
    }

    /** Rows of {ref, src, tgt}; bad rows fail the job with the file and the offending line. */
    private JavaRDD<String[]> readPairs(SparkSession spark, Fs fs) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (srcFile != null || tgtFile != null) {
            if (srcFile == null || tgtFile == null) {
                throw new IllegalArgumentException("--src-file and --tgt-file go together; got only one");
            }
            requireExists(fs, srcFile);
            requireExists(fs, tgtFile);
            JavaPairRDD<Long, String> src = jsc.textFile(srcFile).zipWithIndex().mapToPair(t -> new Tuple2<>(t._2, t._1));
            JavaPairRDD<Long, String> tgt = jsc.textFile(tgtFile).zipWithIndex().mapToPair(t -> new Tuple2<>(t._2, t._1));
            long ns = src.count();
            long nt = tgt.count();
            if (ns != nt) {
                throw new IllegalArgumentException(srcFile + " has " + ns + " lines but " + tgtFile + " has " + nt
                        + "; the two sides must be line-aligned");
            }
            return src.join(tgt).sortByKey().map(t -> new String[] {"line " + (t._1 + 1), t._2._1, t._2._2});
        }
        JavaRDD<String> lines;
        if (input.equals(BUILTIN)) {
            List<String> all = builtinLines();
            lines = jsc.parallelize(all, Math.max(4, all.size() / 2000)); // small tasks: no oversized-task warnings
        } else {
            requireExists(fs, input);
            lines = jsc.textFile(input);
        }
        String source = input;
        List<String> first;
        try {
            first = lines.take(1);
        } catch (Exception e) { // e.g. a corrupt .gz or a denied s3a read, surfacing from a Spark task
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalArgumentException("corpus input " + source + " cannot be read: " + root.getMessage());
        }
        if (first.isEmpty() || !first.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(source + ": line 1 must be the header 'ref<TAB>src<TAB>tgt', got '"
                    + (first.isEmpty() ? "" : abbreviate(first.get(0))) + "'");
        }
        JavaRDD<String> body = lines.filter(l -> !l.equals(HEADER) && !l.isBlank());
        List<String> bad = body.filter(l -> l.split("\t", -1).length != 3).take(1);
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(source + ": row '" + abbreviate(bad.get(0)) + "' has "
                    + bad.get(0).split("\t", -1).length + " tab-separated fields, expected 3 (ref, src, tgt)");
        }
        return body.map(l -> l.split("\t", -1));
    }

    private static void requireExists(Fs fs, String path) {
        if (!fs.exists(path)) {
            throw new IllegalArgumentException("corpus input " + path + " does not exist");
        }
    }

    static List<String> builtinLines() {
        try (InputStream in = PrepareCorpus.class.getResourceAsStream("/corpus/bible-kjv-rv1909.en-es.tsv.gz")) {
            if (in == null) {
                throw new IllegalStateException("the bundled corpus is missing from the jar");
            }
            String text = new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8);
            return new ArrayList<>(Arrays.asList(text.split("\n")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Bpe learn(JavaRDD<String> sentences, String which) {
        Map<String, Long> counts = sentences.flatMap(s -> Pretokenizer.words(s).iterator())
                .mapToPair(w -> new Tuple2<>(w, 1L)).reduceByKey(Long::sum).collectAsMap();
        long t0 = System.nanoTime();
        Bpe bpe = Bpe.learn(new HashMap<>(counts), vocabSize, minCharCount);
        LOG.info("learned {} BPE: {} distinct words, {} tokens, {} merges in {} ms", which, counts.size(),
                bpe.vocab().size(), bpe.merges().size(), (System.nanoTime() - t0) / 1_000_000);
        return bpe;
    }

    static byte[] bytes(Bpe bpe) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            bpe.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static final Map<Integer, Bpe> EXECUTOR_BPE = new ConcurrentHashMap<>();

    /** One parsed BPE per executor JVM and vocabulary (its encode cache is shared by all tasks). */
    static Bpe cached(byte[] data) {
        return EXECUTOR_BPE.computeIfAbsent(Arrays.hashCode(data), k -> {
            try {
                return Bpe.read(new ByteArrayInputStream(data));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static Integer[] boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toArray(Integer[]::new);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
