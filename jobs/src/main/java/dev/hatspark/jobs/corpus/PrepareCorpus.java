package dev.hatspark.jobs.corpus;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.corpus.Bpe;
import dev.hatspark.corpus.FairseqDataBin;
import dev.hatspark.util.Ids;
import dev.hatspark.corpus.Pretokenizer;
import dev.hatspark.corpus.Splits;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import scala.Tuple2;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * prepare-corpus: parallel text → deterministic train/valid/test split (hash of ref) → BPE learned on
 * the train split only → encoded Parquet {@code corpus/pairs} plus {@code corpus/vocab/}.
 */
@Command(name = "prepare-corpus", mixinStandardHelpOptions = true,
        description = "Split, learn a BPE vocabulary on the train split, encode, write corpus/ Parquet.")
public final class PrepareCorpus implements Job<CorpusMeta> {
    private static final Logger LOG = LoggerFactory.getLogger(PrepareCorpus.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--input", description = "TSV (ref, src, tgt; header; .gz ok) on any Hadoop path, or ${DEFAULT-VALUE} (the bundled Bible corpus). Default: ${DEFAULT-VALUE}")
    public String input = CorpusInput.BUILTIN;

    @Option(names = "--src-file", description = "Source side as line-aligned text (use with --tgt-file instead of --input)")
    public String srcFile;

    @Option(names = "--tgt-file", description = "Target side as line-aligned text")
    public String tgtFile;

    @Option(names = "--fairseq-data-bin", description = "A fairseq data-bin folder (HAT's preprocessed data: dict.<lang>.txt, "
            + "<split>.<src>-<tgt>.<lang>.bin/.idx) on any Hadoop path, read as is: fairseq's splits and ids, its dictionary as "
            + "the vocabulary, no BPE learned (instead of --input/--src-file/--tgt-file)")
    public String fairseqDataBin;

    @Option(names = "--vocab-size", description = "BPE vocabulary size per vocabulary. Default: ${DEFAULT-VALUE}")
    public int vocabSize = 8000;

    @Option(names = "--vocab", description = "joint (one vocabulary, shared embeddings) or separate. Default: ${DEFAULT-VALUE}")
    public String vocab = "joint";

    @Option(names = "--min-char-count", description = "Rarer characters become <unk>. Default: ${DEFAULT-VALUE}")
    public int minCharCount = 2;

    @Option(names = "--valid-fraction", description = "Default: ${DEFAULT-VALUE}")
    public double validFraction = 0.01;

    @Option(names = "--test-fraction", description = "Default: ${DEFAULT-VALUE}")
    public double testFraction = 0.01;

    @Option(names = "--limit", description = "Keep only the first N pairs (tests, quick trials); 0 = all. Default: ${DEFAULT-VALUE}")
    public int limit = 0;

    @Override
    public String name() {
        return "prepare-corpus";
    }

    @Override
    public CorpusMeta run(SparkSession spark) {
        if (!vocab.equals("joint") && !vocab.equals("separate")) {
            throw new BadInputException("--vocab must be joint or separate, got '" + vocab + "'");
        }
        Splits.splitOf("check", validFraction, testFraction);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        if (fairseqDataBin != null) {
            if (srcFile != null || tgtFile != null || !input.equals(CorpusInput.BUILTIN)) {
                throw new BadInputException("--fairseq-data-bin excludes --input, --src-file and --tgt-file");
            }
            return fromDataBin(spark, fs, layout);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        double vf = validFraction;
        double tf = testFraction;

        CorpusInput source = new CorpusInput(srcFile != null || tgtFile != null ? null : input, srcFile, tgtFile);
        JavaRDD<String[]> pairs = source.read(spark, fs);
        if (limit > 0) {
            pairs = jsc.parallelize(pairs.take(limit));
        }
        JavaRDD<String[]> withSplit = pairs.map(p -> new String[] {Splits.splitOf(p[0], vf, tf), p[0], p[1], p[2]}).cache();
        long duplicates = withSplit.count() - withSplit.map(p -> p[1]).distinct().count();
        if (duplicates > 0) {
            throw new BadInputException(source.describe() + ": " + duplicates
                    + " duplicate values in column 'ref'; refs must be unique (they decide the split)");
        }
        Map<String, Long> counts = new HashMap<>(withSplit.map(p -> p[0]).countByValue());
        requireEverySplit(source.describe(), counts);
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
        Broadcast<byte[]> srcBytes = jsc.broadcast(BpeCache.bytes(srcBpe));
        Broadcast<byte[]> tgtBytes = jsc.broadcast(BpeCache.bytes(tgtBpe));
        JavaRDD<Row> rows = withSplit.map(p -> RowFactory.create(p[0], p[1],
                boxed(BpeCache.get(srcBytes.value()).encode(p[2])), boxed(BpeCache.get(tgtBytes.value()).encode(p[3]))));
        Dataset<Row> table = spark.createDataFrame(rows, Tables.CORPUS_PAIRS).repartition(4).sortWithinPartitions("split", "ref");
        fs.writeParquet(table, layout.corpusPairs());

        if (joint) {
            fs.write(layout.corpusVocab("joint"), BpeCache.bytes(srcBpe));
        } else {
            fs.write(layout.corpusVocab("src"), BpeCache.bytes(srcBpe));
            fs.write(layout.corpusVocab("tgt"), BpeCache.bytes(tgtBpe));
        }
        CorpusMeta meta = new CorpusMeta(joint, srcBpe.fingerprint(), tgtBpe.fingerprint(), srcBpe.vocab().size(),
                tgtBpe.vocab().size(), counts.getOrDefault("train", 0L), counts.getOrDefault("valid", 0L),
                counts.getOrDefault("test", 0L), validFraction, testFraction, source);
        fs.writeText(layout.corpusMeta(), meta.toJson());
        withSplit.unpersist();
        LOG.info("corpus: {} train / {} valid / {} test pairs, vocab {} ({} tokens) -> {}", meta.train(), meta.valid(),
                meta.test(), vocab, srcBpe.vocab().size(), layout.corpusPairs());
        return meta;
    }

    /** A fairseq data-bin as is: its splits, ids and dictionaries (copied to corpus/vocab/dict.<lang>.txt). */
    private CorpusMeta fromDataBin(SparkSession spark, Fs fs, Layout layout) {
        FairseqCorpus.Folder f = FairseqCorpus.open(fs, fairseqDataBin);
        String src = f.bin().sourceLang();
        String tgt = f.bin().targetLang();
        Map<String, Long> counts = new HashMap<>();
        Dataset<Row> table = null;
        for (String split : FairseqDataBin.SPLITS) {
            List<Row> rows = FairseqCorpus.rows(fs, f, split);
            if (limit > 0 && rows.size() > limit) {
                rows = rows.subList(0, limit);
            }
            counts.put(split, (long) rows.size());
            Dataset<Row> part = spark.createDataFrame(rows, Tables.CORPUS_PAIRS);
            table = table == null ? part : table.union(part);
        }
        requireEverySplit(fairseqDataBin, counts);
        fs.writeParquet(table.repartition(4).sortWithinPartitions("split", "ref"), layout.corpusPairs());
        fs.write(layout.corpusFairseqDict(src), f.srcDict());
        fs.write(layout.corpusFairseqDict(tgt), f.tgtDict());
        boolean joint = Arrays.equals(f.srcDict(), f.tgtDict());
        CorpusMeta meta = new CorpusMeta(joint, Ids.sha(f.srcDict()), Ids.sha(f.tgtDict()), f.src().size(), f.tgt().size(),
                counts.get("train"), counts.get("valid"), counts.get("test"), 0, 0,
                CorpusInput.fairseq(fairseqDataBin, src + "-" + tgt));
        fs.writeText(layout.corpusMeta(), meta.toJson());
        LOG.info("corpus: {} train / {} valid / {} test pairs from {}, dictionaries {} / {} types{} -> {}", meta.train(),
                meta.valid(), meta.test(), meta.input().describe(), f.src().size(), f.tgt().size(),
                joint ? " (joined)" : "", layout.corpusPairs());
        return meta;
    }

    /** Training, validation and test each need a pair; an empty split would fail a later job far from its cause. */
    private static void requireEverySplit(String input, Map<String, Long> counts) {
        long train = counts.getOrDefault("train", 0L);
        long valid = counts.getOrDefault("valid", 0L);
        long test = counts.getOrDefault("test", 0L);
        if (train == 0 || valid == 0 || test == 0) {
            throw new BadInputException(input + ": " + (train + valid + test) + " pairs split into " + train + " train / "
                    + valid + " valid / " + test + " test; every split needs at least one pair (a larger corpus, or larger"
                    + " --valid-fraction / --test-fraction)");
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

    private static Integer[] boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toArray(Integer[]::new);
    }

}
