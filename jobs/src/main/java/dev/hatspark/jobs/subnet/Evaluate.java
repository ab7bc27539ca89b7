package dev.hatspark.jobs.subnet;

import dev.hatspark.jobs.latency.Hardware;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.latency.LatencyRuns;
import dev.hatspark.jobs.supernet.ExecutorModels;
import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.corpus.CorpusMeta;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.jobs.corpus.BpeCache;
import dev.hatspark.jobs.corpus.FairseqCorpus;
import dev.hatspark.corpus.FairseqDictionary;
import dev.hatspark.util.Balance;
import ai.djl.ndarray.NDManager;
import dev.hatspark.bleu.Bleu;
import dev.hatspark.corpus.Bpe;
import dev.hatspark.latency.Device;
import dev.hatspark.latency.LatencyProtocol;
import dev.hatspark.latency.Measurer;
import dev.hatspark.latency.Schedule;
import dev.hatspark.latency.ScheduleOptions;
import dev.hatspark.model.BeamSearch;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.Torch;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.Progress;
import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import scala.Tuple2;

import java.io.Serializable;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * evaluate: for trained SubTransformers (see train-subnet), beam-search translations of the test
 * split sharded over Spark tasks, corpus BLEU against the raw reference text (sacreBLEU's default
 * BLEU, {@link Bleu}), and latency measured on this hardware with measure-latency's protocol next to
 * the predictor's figure; rows are merged into {@code subnets/results}.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "BLEU on the test split and measured vs predicted latency of trained SubTransformers into subnets/results.")
public final class Evaluate implements Job<List<Evaluate.Result>> {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluate.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Mixin
    public Targets targets = new Targets();

    @Option(names = "--init", description = "Which training to evaluate: inherited or scratch. Default: ${DEFAULT-VALUE}")
    public String init = SubnetTraining.INHERITED;

    @Option(names = "--beam", description = "Beam size (HAT: 4). Default: ${DEFAULT-VALUE}")
    public int beam = 4;

    @Option(names = "--length-penalty", description = "Hypotheses ranked by score / length^lp (HAT: 0.6). Default: ${DEFAULT-VALUE}")
    public float lengthPenalty = 0.6f;

    @Option(names = "--max-len-a", description = "Output at most a * source tokens + b. Default: ${DEFAULT-VALUE}")
    public double maxLenA = 1.5;

    @Option(names = "--max-len-b", description = "Default: ${DEFAULT-VALUE}")
    public int maxLenB = 10;

    @Option(names = "--max-sentences", description = "Test sentences decoded (the first by ref; 0 = the whole test split). Default: ${DEFAULT-VALUE}")
    public int maxSentences = 0;

    @Option(names = "--compound-split", description = "For a --fairseq-data-bin corpus: split hyphenated compounds in "
            + "hypotheses and references before BLEU, as HAT's En-De figures (fairseq's compound_split_bleu.sh)")
    public boolean compoundSplit;

    @Option(names = "--latency-warmup", description = "Untimed runs per config. Default: ${DEFAULT-VALUE}")
    public int latencyWarmup = LatencyProtocol.HAT.warmup();

    @Option(names = "--latency-runs", description = "Timed runs per config. Default: ${DEFAULT-VALUE}")
    public int latencyRuns = dev.hatspark.latency.ScheduleOptions.DEFAULT_RUNS;

    @Option(names = "--threads", description = "PyTorch threads of a latency timing (0 = spark.task.cpus). Default: ${DEFAULT-VALUE}")
    public int threads = 0;

    @Override
    public String name() {
        return "evaluate";
    }

    /** One row of subnets/results. */
    public record Result(String configHash, String role, String sweepId, Double budgetMs, double bleu,
                         double measuredLatencyMs, Double predictedLatencyMs, long params, String hardwareId,
                         double validLoss, long trainSteps, double measuredRawLatencyMs, Double labelNoiseRel,
                         Boolean meetsBudget) implements Serializable {
    }

    /** What was measured of one trained config. */
    private record Measured(String checkpoint, long steps, double validLoss, long params, Bleu.Score bleu,
                            Schedule.Label latency, String hardwareId) {
    }

    @Override
    public List<Result> run(SparkSession spark) throws Exception {
        if (beam < 1 || maxLenA < 0 || maxLenB < 1) {
            throw new BadInputException("--beam and --max-len-b must be at least 1 and --max-len-a at least 0");
        }
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        CorpusMeta corpus = CorpusMeta.read(fs, layout);
        String supernet = Checkpoints.latestOf(fs, layout);
        Checkpoints.State supernetState = Checkpoints.readState(fs, supernet);
        supernetState.requireVocabulary(corpus.srcVocabFingerprint(), corpus.tgtVocabFingerprint(), supernet);
        DesignSpace space = supernetState.space(supernet);
        List<Targets.Target> todo = targets.resolve(spark, layout, space);
        List<ArchConfig> configs = Targets.distinct(todo);
        Map<String, String> checkpoints = new HashMap<>();
        for (ArchConfig c : configs) {
            checkpoints.put(c.hash(), SubnetTraining.latest(fs, layout, c.hash(), init).orElseThrow(() ->
                    new BadInputException("SubTransformer " + c.hash() + " has no " + init + " checkpoint under "
                            + layout.subnet(c.hash(), init).dir() + ": run train-subnet --init " + init + " first")));
        }
        boolean fairseq = corpus.input().isFairseq();
        if (compoundSplit && !fairseq) {
            throw new BadInputException("--compound-split is for a corpus prepared with --fairseq-data-bin (tokenized BLEU); "
                    + layout.corpusMeta() + " was prepared from " + corpus.input().describe());
        }
        List<TestSentence> test = testSet(spark, fs, layout, corpus);
        String signature = fairseq ? Bleu.signatureTokenized(beam, lengthPenalty, test.size(), compoundSplit)
                : Bleu.signature(beam, lengthPenalty, test.size());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // the target vocabulary: the BPE model of our own corpora, the fairseq dictionary of a data-bin
        Broadcast<byte[]> vocab = jsc.broadcast(fs.read(fairseq ? layout.corpusFairseqDict(targetLang(corpus))
                : layout.corpusVocab(corpus.jointVocab() ? "joint" : "tgt")));
        // the predictor of this machine, if fitted, and the protocol it was fitted on (else HAT's)
        String hwId = threads > 0 ? Device.id(Device.readCpuModel(), threads) : Hardware.localId(spark);
        LatencyPredictor predictor = LatencyPredictor.find(spark, layout, hwId);
        LatencyProtocol protocol = predictor != null && predictor.spec().isRich()
                ? new LatencyProtocol(predictor.spec().srcLen(), predictor.spec().beam(), predictor.spec().steps(),
                latencyWarmup, latencyRuns, LatencyProtocol.HAT.trim())
                : LatencyProtocol.HAT.withRuns(latencyWarmup, latencyRuns);
        // the schedule, reference and anchor of this hardware's measure-latency run, so measured and
        // predicted latencies are in the same units; the labels' retest error is the noise a budget allows
        LatencyRuns.Noise noise = LatencyRuns.noise(spark, fs, layout, hwId);
        ScheduleOptions schedule = (noise != null ? noise.options() : ScheduleOptions.DEFAULT)
                .resolvedFor(threads > 0 ? threads : Hardware.taskCpus());
        int timedVocab = predictor != null && predictor.spec().isRich() ? predictor.spec().vocab() : corpus.tgtVocabSize();
        Map<String, Double> anchors = LatencyRuns.anchors(spark, fs, layout);

        Map<String, Measured> measured = new HashMap<>();
        Tuple2<String, Schedule.Result> timed = measureLatency(jsc, space, timedVocab, configs, protocol, schedule, anchors);
        String[] hardware = {timed._1()};
        Map<String, Schedule.Label> latency = new HashMap<>();
        timed._2().labels().forEach(l -> latency.put(l.key(), l));
        Double labelNoise = noise != null && noise.retestError() != null ? noise.retestError()
                : timed._2().summary().retestError();
        LatencyRuns.append(spark, fs, layout, List.of(LatencyRuns.row(java.util.UUID.randomUUID().toString(), "evaluate", 0,
                timed._1(), space.name, timedVocab, protocol, schedule, space.median().hash(), timed._2().summary(),
                timed._2().summary().anchorMs())));
        Double here = timed._2().summary().retestError();
        LOG.info("evaluate: latency of {} configs in {} interleaved passes, retest error {} here, label noise {}",
                configs.size(), schedule.passes(), pct(here), pct(labelNoise));
        if (here != null && labelNoise != null && here > 2 * labelNoise) {
            LOG.warn("evaluate: its passes disagree by {}, over twice the label noise {}: something disturbed the timings;"
                    + " time the winners again with evaluate alone in a fresh JVM", pct(here), pct(labelNoise));
        }
        for (int i = 0; i < configs.size(); i++) {
            ArchConfig c = configs.get(i);
            String ckpt = checkpoints.get(c.hash());
            long t0 = System.nanoTime();
            List<String> hyps = translate(jsc, ckpt, c, test, vocab, fairseq);
            List<String> refs = test.stream().map(TestSentence::reference).toList();
            Bleu.Score score = fairseq ? Bleu.corpusTokenized(split(hyps), split(refs)) : Bleu.corpus(hyps, refs);
            writeTranslations(spark, fs, layout.subnet(c.hash(), init).translations(), test, hyps);
            SubnetTraining.State st = Checkpoints.readState(fs, ckpt, SubnetTraining.State.class);
            long params;
            try (NDManager m = NDManager.newBaseManager(); SuperTransformer model = Checkpoints.loadModel(fs, ckpt, m)) {
                params = model.parameterCount(c);
            }
            measured.put(c.hash(), new Measured(ckpt, st.step(), st.metrics().get(st.metrics().size() - 1).validLoss(),
                    params, score, latency.get(c.hash()), hardware[0]));
            LOG.info("evaluate {}/{}: {} {} in {} s", i + 1, configs.size(), c.hash(), score,
                    String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        }
        if (!hardware[0].equals(hwId)) { // executors of another CPU than the driver's
            LOG.warn("latency was timed on {}, not {} like the driver: predicting with {}'s predictor", hardware[0], hwId, hardware[0]);
            predictor = LatencyPredictor.find(spark, layout, hardware[0]);
        }
        if (predictor == null) {
            LOG.warn("no latency predictor for hardware {}: predicted_latency_ms stays null", hwId);
        }
        List<Result> results = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        Timestamp now = Timestamp.from(Instant.now());
        for (Targets.Target t : todo) {
            Measured m = measured.get(t.config().hash());
            Double predicted = predictor == null ? null : predictor.predictMs(t.config());
            double ms = m.latency().latencyMs();
            Boolean meets = Schedule.meetsBudget(ms, t.budgetMs(), labelNoise);
            results.add(new Result(t.config().hash(), t.role(), t.sweepId(), t.budgetMs(), m.bleu().bleu(), ms,
                    predicted, m.params(), m.hardwareId(), m.validLoss(), m.steps(), m.latency().rawMs(), labelNoise, meets));
            rows.add(RowFactory.create(t.config().hash(), t.budgetMs(), m.bleu().bleu(), ms, predicted, m.params(),
                    t.role(), t.sweepId(), init, m.steps(), m.validLoss(), m.hardwareId(), signature, test.size(), beam,
                    (double) lengthPenalty, t.config().toJson(), m.checkpoint(), now, m.latency().rawMs(), labelNoise, meets));
        }
        merge(spark, fs, layout, rows);
        LOG.info(table(results));
        return results;
    }

    /** A test pair: its ref, source ids and raw reference text. */
    record TestSentence(String ref, int[] src, String reference) implements Serializable {
    }

    /** Compound-split with --compound-split, else as they are. */
    private List<String> split(List<String> sentences) {
        return compoundSplit ? sentences.stream().map(Bleu::compoundSplit).toList() : sentences;
    }

    private static String targetLang(CorpusMeta corpus) {
        String pair = corpus.input().fairseqPair();
        return pair.substring(pair.indexOf('-') + 1);
    }

    /**
     * The test split (first --max-sentences by ref) with the raw target text of the corpus input, or
     * for a fairseq data-bin (no raw text) its target decoded with the dictionary, BPE removed.
     */
    private List<TestSentence> testSet(SparkSession spark, Fs fs, Layout layout, CorpusMeta corpus) {
        var rows = spark.read().parquet(fs.current(layout.corpusPairs())).where(col("split").equalTo("test"))
                .select("ref", "src_ids", "tgt_ids").orderBy("ref");
        if (maxSentences > 0) {
            rows = rows.limit(maxSentences);
        }
        List<Row> pairs = rows.collectAsList();
        if (pairs.isEmpty()) {
            throw new BadInputException(layout.corpusPairs() + ": the test split is empty");
        }
        if (corpus.input().isFairseq()) {
            String path = layout.corpusFairseqDict(targetLang(corpus));
            FairseqDictionary dict = FairseqCorpus.dictionary(fs.read(path), path);
            List<TestSentence> out = new ArrayList<>();
            for (Row r : pairs) {
                out.add(new TestSentence(r.getString(0), ints(r.getList(1)), FairseqCorpus.text(dict, ints(r.getList(2)))));
            }
            return out;
        }
        Set<String> refs = new HashSet<>();
        pairs.forEach(r -> refs.add(r.getString(0)));
        Broadcast<Set<String>> wanted = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(refs);
        Map<String, String> text = corpus.input().read(spark, fs)
                .filter(p -> wanted.value().contains(p[0])).mapToPair(p -> new Tuple2<>(p[0], p[2])).collectAsMap();
        List<TestSentence> out = new ArrayList<>();
        for (Row r : pairs) {
            String reference = text.get(r.getString(0));
            if (reference == null) {
                throw new BadInputException("test ref '" + r.getString(0) + "' is not in the corpus input "
                        + corpus.input().describe() + ": it changed since prepare-corpus");
            }
            out.add(new TestSentence(r.getString(0), ints(r.getList(1)), reference));
        }
        return out;
    }

    private static int[] ints(List<Integer> ids) {
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Beam-search translations, detokenized (BPE merged back, '▁' to spaces; for a fairseq data-bin:
     * dictionary symbols with "@@ " removed, still tokenized), in the order of {@code test}.
     * Sentences are dealt longest first onto the least-loaded of one partition per task slot; each
     * task loads the checkpoint once.
     */
    private List<String> translate(JavaSparkContext jsc, String checkpoint, ArchConfig config, List<TestSentence> test,
                                   Broadcast<byte[]> vocab, boolean fairseq) {
        int parts = Math.max(1, Math.min(test.size(), jsc.defaultParallelism()));
        int[] part = Balance.lpt(test.stream().mapToDouble(t -> t.src().length + 1).toArray(), parts);
        List<Tuple2<Integer, Tuple2<Integer, int[]>>> assigned = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            assigned.add(new Tuple2<>(part[i], new Tuple2<>(i, test.get(i).src())));
        }
        String json = config.toJson();
        int b = beam;
        float lp = lengthPenalty;
        double a = maxLenA;
        int mb = maxLenB;
        List<Tuple2<Integer, String>> out = jsc.parallelizePairs(assigned, parts).partitionBy(new HashPartitioner(parts))
                .mapPartitions(it -> decodeAll(it, checkpoint, json, vocab.value(), fairseq, b, lp, a, mb)).collect();
        String[] hyps = new String[test.size()];
        out.forEach(t -> hyps[t._1()] = t._2());
        return List.of(hyps);
    }

    private static Iterator<Tuple2<Integer, String>> decodeAll(Iterator<Tuple2<Integer, Tuple2<Integer, int[]>>> it,
                                                               String checkpoint, String configJson, byte[] vocab,
                                                               boolean fairseq, int beam,
                                                               float lengthPenalty, double maxLenA, int maxLenB) {
        List<Tuple2<Integer, int[]>> todo = new ArrayList<>();
        it.forEachRemaining(t -> todo.add(t._2()));
        List<Tuple2<Integer, String>> out = new ArrayList<>();
        if (todo.isEmpty()) {
            return out.iterator();
        }
        ExecutorModels.capThreads();
        ArchConfig config = ArchConfig.fromJson(configJson);
        java.util.function.Function<int[], String> detok;
        if (fairseq) {
            FairseqDictionary dict = FairseqCorpus.dictionary(vocab, "the target dictionary");
            detok = ids -> FairseqCorpus.text(dict, ids);
        } else {
            Bpe bpe = BpeCache.get(vocab);
            detok = bpe::decode;
        }
        try (NDManager m = NDManager.newBaseManager();
             SuperTransformer model = Checkpoints.loadModel(ExecutorModels.fs(), checkpoint, m)) {
            BeamSearch search = new BeamSearch(model, beam, lengthPenalty);
            long t0 = System.nanoTime();
            for (int k = 0; k < todo.size(); k++) {
                int[] src = todo.get(k)._2();
                int[] ids = search.translate(config, src, (int) Math.round(maxLenA * src.length) + maxLenB);
                out.add(new Tuple2<>(todo.get(k)._1(), detok.apply(ids)));
                if ((k + 1) % 50 == 0 || k + 1 == todo.size()) {
                    double perSentence = (System.nanoTime() - t0) / 1e9 / (k + 1);
                    LOG.info("decoded {}/{} sentences (partition {}), ETA {}", k + 1, todo.size(),
                            TaskContext.getPartitionId(), Progress.eta(perSentence * (todo.size() - k - 1)));
                }
            }
        }
        return out.iterator();
    }

    /**
     * Latency of each trained config with measure-latency's {@link Measurer} (the same random-weight
     * model of the space, built and warmed the same way: latency does not depend on the weights, and
     * the trained checkpoints' loading and the JVM's earlier training then cannot change what is
     * timed), on the interleaved schedule with the reference, one timing at a time in a single task.
     * Returns the hardware id the task ran on and the labels.
     */
    private Tuple2<String, Schedule.Result> measureLatency(JavaSparkContext jsc, DesignSpace space, int vocab,
                                                           List<ArchConfig> configs, LatencyProtocol protocol,
                                                           ScheduleOptions schedule, Map<String, Double> anchors) {
        int t = threads;
        String yaml = space.yaml();
        List<String> work = configs.stream().map(ArchConfig::toJson).toList();
        return jsc.parallelize(work, 1).mapPartitions(it -> {
            Torch.threads(t > 0 ? t : Hardware.taskCpus(), 1);
            String hw = Device.detect().hardwareId();
            List<ArchConfig> cs = new ArrayList<>();
            it.forEachRemaining(j -> cs.add(ArchConfig.fromJson(j)));
            DesignSpace ds = DesignSpace.parse(yaml, "design space");
            Measurer measurer = Measurer.of(ds, vocab, protocol, Measurer.WARMUP_SECONDS);
            String key = LatencyRuns.anchorKey(hw, ds.median().hash(), vocab, protocol, schedule.statistic().label);
            Schedule.Result r = measurer.measure(cs, schedule, cs.size(), anchors.get(key), Evaluate::logSlot);
            r.labels().forEach(l -> LOG.info("latency of {}: {} ms (raw {} ms) on {}", l.key(),
                    String.format("%.2f", l.latencyMs()), String.format("%.2f", l.rawMs()), hw));
            return List.of(new Tuple2<>(hw, r)).iterator();
        }).collect().get(0);
    }

    /** Each timing of evaluate's few configs, so a disagreement between passes can be traced to its runs. */
    private static void logSlot(Schedule.Timed t) {
        LatencyProtocol.Timing raw = t.timing();
        String ratio = t.paired() == null ? "-" : String.format("%.3f", t.paired().ratios().encoder().median()
                + t.paired().ratios().decoder().median());
        LOG.info("latency slot {} ({}): median {} ms, p25 {} ms, config/reference {}{}", t.slot().position(),
                t.slot().reference() ? "reference" : t.slot().key() + " pass " + t.slot().pass(),
                String.format("%.2f", raw.encoder().median() + raw.decoder().median()),
                String.format("%.2f", raw.encoder().p25() + raw.decoder().p25()), ratio,
                t.paired() == null ? "" : String.format(", reference median %.2f ms", t.paired().reference().median()));
    }

    private static String pct(Double v) {
        return v == null ? "-" : String.format("%.2f %%", 100 * v);
    }

    private static void writeTranslations(SparkSession spark, Fs fs, String path, List<TestSentence> test, List<String> hyps) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            rows.add(RowFactory.create(test.get(i).ref(), hyps.get(i), test.get(i).reference()));
        }
        fs.writeParquet(spark.createDataFrame(rows, Tables.SUBNET_TRANSLATIONS).coalesce(1), path);
    }

    /** Merges rows into subnets/results: a row replaces an older one of the same config, init, role, sweep and budget. */
    private static void merge(SparkSession spark, Fs fs, Layout layout, List<Row> fresh) {
        List<Row> all = new ArrayList<>();
        if (fs.hasCurrent(layout.subnetResults())) {
            for (Row old : spark.read().schema(Tables.SUBNET_RESULTS).parquet(fs.current(layout.subnetResults())).collectAsList()) {
                if (fresh.stream().noneMatch(n -> key(n).equals(key(old)))) {
                    all.add(old);
                }
            }
        }
        all.addAll(fresh);
        fs.writeParquet(spark.createDataFrame(all, Tables.SUBNET_RESULTS).coalesce(1), layout.subnetResults());
    }

    /** config_hash, budget_ms, role, sweep_id, init (by position: fresh rows carry no schema). */
    private static List<Object> key(Row r) {
        return java.util.Arrays.asList(r.get(0), r.get(1), r.get(6), r.get(7), r.get(8));
    }

    /** The summary the log shows: budget → config → predicted → measured latency → within budget → BLEU. */
    static String table(List<Result> results) {
        StringBuilder b = new StringBuilder("results (BLEU: sacreBLEU 13a; latency: ms on " +
                (results.isEmpty() ? "-" : results.get(0).hardwareId()) + ", label noise "
                + (results.isEmpty() ? "-" : pct(results.get(0).labelNoiseRel())) + ")\n");
        b.append(String.format("  %-9s %-10s %-17s %10s %12s %11s %6s %7s %8s%n", "role", "budget_ms", "config_hash",
                "params", "predicted", "measured", "meets", "BLEU", "val_loss"));
        for (Result r : results) {
            b.append(String.format("  %-9s %-10s %-17s %10d %12s %11.2f %6s %7.2f %8.4f%n", r.role(),
                    r.budgetMs() == null ? "-" : String.format("%.0f", r.budgetMs()), r.configHash(), r.params(),
                    r.predictedLatencyMs() == null ? "-" : String.format("%.2f", r.predictedLatencyMs()),
                    r.measuredLatencyMs(), r.meetsBudget() == null ? "-" : r.meetsBudget() ? "yes" : "NO", r.bleu(),
                    r.validLoss()));
        }
        return b.toString().trim();
    }
}
