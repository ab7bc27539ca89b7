package dev.hatspark.jobs;

import dev.hatspark.jobs.corpus.CorpusInput;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spark;
import dev.hatspark.model.SupernetTrainer;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The pipeline end to end on s3a against a real S3 protocol server in this JVM (S3Proxy, in-memory
 * store, path-style): corpus read from the bucket, every output written there, through the CLI. The
 * result equals the same run on the local file system, and the S3 secret key, a planted unique
 * value, appears in no console line, no log line and no output file.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3PipelineTest {
    static final String BUCKET = "hat-bucket";
    static final String ACCESS = "hat-test-access";
    static final String SECRET = "planted-secret-" + UUID.randomUUID();

    @TempDir
    static java.nio.file.Path dir;
    static S3Proxy proxy;
    static BlobStoreContext store;
    static SparkSession spark;
    static final List<String> SPARK_PROPS = new ArrayList<>();
    static final ByteArrayOutputStream console = new ByteArrayOutputStream();
    static final StringWriter log = new StringWriter();
    static WriterAppender appender;
    static PrintStream oldOut;
    static PrintStream oldErr;
    static Level oldRootLevel;

    @BeforeAll
    static void start() throws Exception {
        store = ContextBuilder.newBuilder("transient").credentials(ACCESS, SECRET).buildView(BlobStoreContext.class);
        store.getBlobStore().createContainerInLocation(null, BUCKET);
        proxy = startProxy(store, ACCESS, SECRET);
        captureOutput();
        // as spark-submit --conf would pass them: system properties that SparkConf picks up, so the
        // executors' Hadoop configuration (ExecutorModels) has them too
        sparkProp("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:" + proxy.getPort());
        sparkProp("spark.hadoop.fs.s3a.endpoint.region", "us-east-1");
        sparkProp("spark.hadoop.fs.s3a.path.style.access", "true");
        sparkProp("spark.hadoop.fs.s3a.connection.ssl.enabled", "false");
        sparkProp("spark.hadoop.fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        sparkProp("spark.hadoop.fs.s3a.access.key", ACCESS);
        sparkProp("spark.hadoop.fs.s3a.secret.key", SECRET);
        sparkProp("spark.logConf", "true"); // the whole SparkConf goes to the log: its redaction is checked too
        System.setProperty("hat.spark.master", "local[2]");
        // a session left by an earlier test class of this JVM would not see the settings above: start afresh
        SparkSession.getDefaultSession().foreach(s -> { s.stop(); return null; });
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        spark = Spark.session("s3-test");
    }

    /** An S3 server on a free local port over {@code store}, accepting only these credentials. */
    static S3Proxy startProxy(BlobStoreContext store, String access, String secret) throws Exception {
        S3Proxy p = S3Proxy.builder().blobStore(store.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, access, secret).build();
        p.start();
        for (int i = 0; i < 500 && !"STARTED".equals(p.getState()); i++) {
            Thread.sleep(10);
        }
        assertEquals("STARTED", p.getState());
        return p;
    }

    static void sparkProp(String key, String value) {
        System.setProperty(key, value);
        SPARK_PROPS.add(key);
    }

    /** Console (System.out/err, still echoed) and every log4j2 event at INFO or above, into buffers. */
    static void captureOutput() {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(tee(oldOut), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(tee(oldErr), true, StandardCharsets.UTF_8));
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        appender = WriterAppender.newBuilder().setName("s3-test-capture").setTarget(log)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%throwable").build()).build();
        appender.start();
        var root = ctx.getConfiguration().getRootLogger();
        oldRootLevel = root.getLevel();
        root.setLevel(Level.INFO);
        root.addAppender(appender, Level.INFO, null);
        ctx.updateLoggers();
    }

    static OutputStream tee(PrintStream echo) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (console) {
                    console.write(b);
                }
                echo.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (console) {
                    console.write(b, off, len);
                }
                echo.write(b, off, len);
            }
        };
    }

    @AfterAll
    static void stop() throws Exception {
        if (spark != null) {
            spark.stop();
        }
        SPARK_PROPS.forEach(System::clearProperty);
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        var root = ctx.getConfiguration().getRootLogger();
        root.removeAppender(appender.getName());
        root.setLevel(oldRootLevel);
        ctx.updateLoggers();
        System.setOut(oldOut);
        System.setErr(oldErr);
        FileSystem.closeAll(); // the cached s3a client points at this proxy
        if (proxy != null) {
            proxy.stop();
        }
        if (store != null) {
            store.close();
        }
    }

    static int hat(String... args) {
        int rc = Hat.execute(args);
        assertEquals(0, rc, "hat " + String.join(" ", args));
        return rc;
    }

    static String s3(String path) {
        return "s3a://" + BUCKET + "/" + path;
    }

    /** The same jobs with the same options on one run root; the corpus and space come from {@code in}. */
    static void prepareAndTrain(String root, String corpus, String space) {
        hat("prepare-corpus", "--root", root, "--input", corpus, "--limit", "400", "--vocab-size", "300",
                "--valid-fraction", "0.1", "--test-fraction", "0.1");
        hat("train-supernet", "--root", root, "--space", space, "--steps", "2", "--max-tokens", "512", "--warmup", "2",
                "--lr", "0.002", "--valid-every", "2", "--checkpoint-every", "2", "--log-every", "1", "--max-len", "64");
        hat("eval-subnet", "--root", root, "--largest", "--smallest", "--sample", "2", "--max-tokens", "512");
    }

    static void fit(String root) {
        hat("fit-predictor", "--root", root, "--hidden", "8", "--max-iter", "10", "--gbt-iter", "2");
    }

    static void sweep(String root, double[] budgets) {
        hat("sweep", "--root", root, "--sweep-id", "s", "--budgets", budgets[0] + "," + budgets[1],
                "--population", "8", "--parents", "3", "--mutations", "3", "--crossovers", "2", "--generations", "2",
                "--seed", "3", "--max-tokens", "512");
    }

    @Test
    @Order(1)
    void pipelineOnS3aEqualsTheLocalRunAndLeaksNoSecret() throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        // the same input bytes on both file systems: a gzipped TSV and a design-space YAML
        byte[] tsv = gzip(String.join("\n", CorpusInput.builtinLines().subList(0, 601)) + "\n");
        String localIn = dir.resolve("in").toString();
        fs.write(s3("in/bible.tsv.gz"), tsv);
        fs.writeText(s3("in/tiny.yaml"), PipelineTest.TINY_SPACE);
        fs.write(localIn + "/bible.tsv.gz", tsv);
        fs.writeText(localIn + "/tiny.yaml", PipelineTest.TINY_SPACE);
        String s3Root = s3("run");
        String localRoot = dir.resolve("run").toString();

        prepareAndTrain(localRoot, localIn + "/bible.tsv.gz", localIn + "/tiny.yaml");
        prepareAndTrain(s3Root, s3("in/bible.tsv.gz"), s3("in/tiny.yaml"));
        // timings differ from run to run: measure once, on s3a, and fit both roots on those rows
        hat("measure-latency", "--root", s3Root, "--samples", "16", "--warmup", "1", "--runs", "2", "--src-len", "8",
                "--decoder-steps", "8", "--chunk", "8");
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        for (String t : List.of("/latency/measurements", "/latency/runs")) { // runs: the labels' noise in the metrics
            Path from = new Path(s3Root + t);
            assertTrue(FileUtil.copy(from.getFileSystem(conf), from, FileSystem.getLocal(conf), new Path(localRoot + t), false, conf));
        }
        fit(s3Root);
        fit(localRoot);
        double[] budgets = budgets(s3Root);
        sweep(s3Root, budgets);
        sweep(localRoot, budgets);

        // corpus: same pairs, same vocabulary, same description but for the input path
        assertRowsEqual(s3Root, localRoot, "corpus/pairs", "*", "ref");
        assertArrayEquals(fs.read(s3Root + "/corpus/vocab/joint.bpe"), fs.read(localRoot + "/corpus/vocab/joint.bpe"));
        assertEquals(fs.readText(localRoot + "/corpus/_corpus.json").replace(localIn, "IN"),
                fs.readText(s3Root + "/corpus/_corpus.json").replace(s3("in"), "IN"));
        // supernet: same checkpoints, byte for byte, and the same training curve (throughput aside)
        List<String> steps = fs.list(localRoot + "/supernet/checkpoints");
        assertEquals(List.of("step-00000002"), steps);
        assertEquals(steps, fs.list(s3Root + "/supernet/checkpoints"));
        String ckpt = "/supernet/checkpoints/step-00000002";
        for (String f : List.of("model.ndlist", "optimizer.ndlist")) {
            assertArrayEquals(fs.read(localRoot + ckpt + "/" + f), fs.read(s3Root + ckpt + "/" + f), f);
        }
        assertEquals(withoutThroughput(Checkpoints.readState(fs, localRoot + ckpt)),
                withoutThroughput(Checkpoints.readState(fs, s3Root + ckpt)));
        assertRowsEqual(s3Root, localRoot, "supernet/metrics", "step, train_loss, valid_loss_largest, valid_loss_smallest", "step");
        // evaluations, predictor metrics, sweep population and winners
        assertRowsEqual(s3Root, localRoot, "evaluations", "config_hash, checkpoint_id, valid_set_id, val_loss, config_json",
                "config_hash");
        String hw = spark.read().parquet(s3Root + "/latency/measurements").select("hardware_id").first().getString(0);
        assertRowsEqual(LatencyPredictor.folder(fs, new Layout(s3Root), hw).dir(),
                LatencyPredictor.folder(fs, new Layout(localRoot), hw).dir(), "metrics", "*", "model, split");
        assertEquals(fs.readText(LatencyPredictor.folder(fs, new Layout(s3Root), hw).features()),
                fs.readText(LatencyPredictor.folder(fs, new Layout(localRoot), hw).features()));
        assertRowsEqual(s3Root, localRoot, "sweeps/s/population", "*", "budget_ms, generation, rank");
        assertRowsEqual(s3Root, localRoot, "sweeps/s/best", "*", "budget_ms");
        assertEquals(2 * 2 * 8, spark.read().parquet(s3Root + "/sweeps/s/population").count());
        assertEquals("finished", spark.read().parquet(fs.current(s3Root + "/sweeps/s/runs")).first().getAs("status"));
        // tables replaced whole are versioned folders on s3a, one committed version left however often
        // the sweep replaced them; on the local root they stay plain folders
        for (String t : List.of("corpus/pairs", "supernet/metrics", "sweeps/s/best", "sweeps/s/runs", "sweeps/s/front")) {
            List<String> entries = fs.list(s3Root + "/" + t);
            assertEquals(2, entries.size(), t + ": " + entries);
            assertTrue(entries.get(0).matches("_v-\\d{6}") && entries.get(1).equals(entries.get(0).substring(1)), t + ": " + entries);
            assertTrue(fs.list(localRoot + "/" + t).stream().anyMatch(n -> n.startsWith("part-")), t);
        }
        assertTrue(fs.list(s3Root + "/sweeps/s/best").get(1).compareTo("v-000001") > 0, "best/ was replaced each generation");
        String bestVersion = fs.current(s3Root + "/sweeps/s/best");
        // the outputs are objects in the S3 server's store, as its own API sees them
        for (String key : List.of("run/corpus/vocab/joint.bpe", "run" + ckpt + "/model.ndlist",
                bestVersion.substring(s3("").length()) + "/_SUCCESS")) {
            assertTrue(store.getBlobStore().blobExists(BUCKET, key), key);
        }
        // the readers of replaced tables resolve their committed version: export's winners, the report, hat sql
        assertEquals(2, dev.hatspark.jobs.search.HatExport.winners(spark, fs, new Layout(s3Root).sweep("s")).size());
        hat("report", "--root", s3Root);
        String report = fs.readText(new Layout(s3Root).report());
        assertTrue(report.contains("<h3>Winners</h3>") && report.contains("Target tokens evaluated"), "the report read best/ and runs/");
        var views = dev.hatspark.jobs.analysis.Sql.register(spark, new Layout(s3Root));
        assertTrue(views.keySet().containsAll(List.of("corpus_pairs", "supernet_metrics", "sweep_best", "sweep_runs", "sweep_front")),
                views.toString());
        assertEquals(2, spark.sql("SELECT * FROM sweep_best").count());
        NotebooksTest.assertViewsMatchTheSqlHelpers(spark, s3Root); // the notebooks' path views read the versions too
        // predict-latency's --out is a versioned table on s3a, and one read back as --configs is taken at its version
        String scored = s3("scored/sample");
        hat("predict-latency", "--root", s3Root, "--hardware-id", hw, "--sample", "12", "--out", scored);
        hat("predict-latency", "--root", s3Root, "--hardware-id", hw, "--configs", scored, "--out", scored + "-again");
        assertEquals(List.of("_v-000001", "v-000001"), fs.list(scored + "-again"));
        assertEquals(spark.read().parquet(fs.current(scored)).select("config_json", "predicted_latency_ms").collectAsList().stream()
                        .map(Row::toString).sorted().toList(),
                spark.read().parquet(fs.current(scored + "-again")).select("config_json", "predicted_latency_ms").collectAsList()
                        .stream().map(Row::toString).sorted().toList());
        // a checkpoint copied in part (S3 renames object by object) has no state.json yet and is not taken
        fs.write(s3Root + "/supernet/checkpoints/step-00000009/model.ndlist", new byte[] {1, 2, 3});
        assertEquals(s3Root + ckpt, new Checkpoints(fs, s3Root + "/supernet/checkpoints").latest().orElseThrow());
        fs.delete(s3Root + "/supernet/checkpoints/step-00000009");
        // nothing half-written left visible: temporaries are hidden names, and none remain in the bucket
        assertEquals(List.of(), tempNames(s3Root), "no temporary left in the bucket");

        // the planted secret: nowhere in the console, the log, either run root, or anything in the bucket
        String out;
        synchronized (console) {
            out = console.toString(StandardCharsets.UTF_8);
        }
        assertTrue(out.contains("sweep done in"), "the console was captured");
        assertTrue(log.toString().contains("spark.hadoop.fs.s3a.secret.key"), "Spark logged its conf (spark.logConf)");
        assertFalse(out.contains(SECRET), "the secret key is in the console output");
        assertFalse(log.toString().contains(SECRET), "the secret key is in the log");
        List<String> scanned = new ArrayList<>();
        assertEquals(List.of(), filesContaining(s3(""), SECRET, scanned), "files in the bucket holding the secret");
        assertEquals(List.of(), filesContaining(localRoot, SECRET, scanned), "local files holding the secret");
        assertTrue(scanned.stream().anyMatch(p -> p.contains("sweeps/s/runs/")) && scanned.size() > 50,
                "the scan covered the outputs: " + scanned.size() + " files");
    }

    /** The scan finds a planted value both in plain files and inside compressed Parquet columns. */
    @Test
    @Order(2)
    void theSecretScanFindsAPlantedValue() throws Exception {
        String root = s3("scan-check");
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        fs.writeText(root + "/plain/notes.txt", "key=" + SECRET);
        Row row = org.apache.spark.sql.RowFactory.create("x-" + SECRET);
        fs.writeParquet(spark.createDataFrame(List.of(row),
                new org.apache.spark.sql.types.StructType().add("s", org.apache.spark.sql.types.DataTypes.StringType)),
                root + "/table");
        List<String> hits = filesContaining(root, SECRET, new ArrayList<>());
        assertEquals(2, hits.size(), hits.toString());
        assertTrue(hits.stream().anyMatch(h -> h.matches(".*/table/v-000001/part-.*\\.parquet")), hits.toString());
        fs.delete(root);
    }

    @Test
    @Order(3)
    void badS3aInputIsOneClearLine() {
        String[] out = hatFailing("prepare-corpus", "--root", s3("bad-run"), "--input", s3("missing.tsv"));
        assertEquals("hat prepare-corpus: error: corpus input " + s3("missing.tsv") + " does not exist", out[1].strip());
        assertFalse(new Fs(spark.sparkContext().hadoopConfiguration()).exists(s3("bad-run")), "nothing written");
        // credentials inside a path are refused before Hadoop logs the URI, and the refusal leaves them out
        String withSecret = "s3a://" + ACCESS + ":" + SECRET + "/x@" + BUCKET + "/in/bible.tsv.gz";
        out = hatFailing("prepare-corpus", "--root", s3("bad-run"), "--input", withSecret);
        assertEquals("hat prepare-corpus: error: s3a://" + BUCKET + "/in/bible.tsv.gz: a path must not carry credentials"
                + " (user:secret@); set them as fs.s3a.* settings or in the environment", out[1].strip());
        out = hatFailing("eval-subnet", "--root", withSecret.replace("/in/bible.tsv.gz", "/run"), "--largest");
        assertTrue(out[1].startsWith("hat eval-subnet: error: s3a://" + BUCKET + "/run: a path must not carry"), out[1]);
        assertFalse((out[0] + out[1]).contains(SECRET), out[1]);
        assertFalse(log.toString().contains(SECRET), "the secret key is in the log");
    }

    /**
     * A table replaced on s3a: a plain folder from before is read as it is, also while a new version is
     * being moved in beside its files; the first versioned write replaces it, a second leaves one
     * committed version that Spark reads whole; a version without its marker is never read.
     */
    @Test
    @Order(4)
    void aReplacedTableIsSwitchedByItsMarkerAndReadersNeverSeeAPart() throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        String table = s3("versions/t");
        assertFalse(fs.atomicRename(table), "s3a copies a folder object by object");
        assertTrue(fs.atomicRename(dir.resolve("local").toString()));
        // a plain folder, as a run root from before versions (or a local one copied to S3) holds it
        ints(1, 2).write().parquet(table);
        assertEquals(table, fs.current(table));
        // the next version being copied in (a reader in the middle of writeParquet, or a crash there):
        // its files sit in v-000001/ but its marker is not written yet
        ints(10, 11, 12).write().parquet(table + "/v-000001");
        assertEquals(table, fs.current(table), "no marker, no switch");
        assertTrue(fs.hasCurrent(table));
        assertEquals(List.of(1, 2), read(fs, table), "Spark lists the table's own files, not the nested version's");

        fs.writeParquet(ints(3, 4, 5), table);
        assertEquals(List.of("_v-000002", "v-000002"), fs.list(table), "the old files and the torn version are gone");
        assertEquals(List.of(3, 4, 5), read(fs, table));
        fs.writeParquet(ints(6, 7), table);
        assertEquals(List.of("_v-000003", "v-000003"), fs.list(table), "one committed version after a second replace");
        assertEquals(List.of(6, 7), read(fs, table));
        // again a replace caught before its marker: readers keep the committed version
        ints(20).write().parquet(table + "/v-000004");
        assertEquals(table + "/v-000003", fs.current(table));
        assertEquals(List.of(6, 7), read(fs, table));
        // the folder itself read by path finds no files: Spark fails rather than read a part
        assertThrows(org.apache.spark.sql.AnalysisException.class, () -> spark.read().parquet(table).count());

        // a table's first write caught before its marker: the folder exists, but there is no table yet
        String fresh = s3("versions/fresh");
        ints(30).write().parquet(fresh + "/v-000001");
        assertTrue(fs.exists(fresh));
        assertFalse(fs.hasCurrent(fresh), "only an uncommitted version");
        fs.writeParquet(ints(31), fresh);
        assertTrue(fs.hasCurrent(fresh));
        assertEquals(List.of(31), read(fs, fresh));

        // on the local file system the same call swaps plain folders in, read by path
        String local = dir.resolve("local-table").toString();
        fs.writeParquet(ints(8), local);
        fs.writeParquet(ints(9), local);
        assertEquals(local, fs.current(local));
        assertEquals(List.of(9), spark.read().parquet(local).as(org.apache.spark.sql.Encoders.INT()).collectAsList());
        assertEquals(List.of(), tempNames(s3("versions")), "no temporary left in the bucket");
        fs.delete(s3("versions"));
    }

    static org.apache.spark.sql.Dataset<Row> ints(Integer... values) {
        return spark.createDataset(List.of(values), org.apache.spark.sql.Encoders.INT()).toDF("x").coalesce(1);
    }

    /** A table's rows as a reader reads them: its current version, sorted. */
    static List<Integer> read(Fs fs, String table) {
        return spark.read().parquet(fs.current(table)).orderBy("x").as(org.apache.spark.sql.Encoders.INT()).collectAsList();
    }

    /** Runs the CLI expecting exit code 1; returns its stdout and stderr. */
    static String[] hatFailing(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Hat.execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String[] text = {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        assertEquals(1, rc, text[0] + text[1]);
        return text;
    }

    /** Budgets at the 50th and 100th percentile of the predicted latency of sampled configs. */
    static double[] budgets(String root) {
        String hw = spark.read().parquet(root + "/latency/measurements").select("hardware_id").first().getString(0);
        LatencyPredictor p = LatencyPredictor.load(spark, new Layout(root), hw);
        DesignSpace space = DesignSpace.parse(PipelineTest.TINY_SPACE, "tiny");
        SplittableRandom rng = new SplittableRandom(1);
        double[] pred = IntStream.range(0, 200).mapToDouble(i -> p.predictMs(Genetics.sample(space, rng))).sorted().toArray();
        return new double[] {pred[100], pred[199]};
    }

    /** Rows of a table of two roots, each read at its current version (s3a) or as the plain folder (local). */
    static void assertRowsEqual(String rootA, String rootB, String table, String cols, String order) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        List<Row> a = spark.read().parquet(fs.current(rootA + "/" + table)).selectExpr(cols.split(", ")).orderBy(columns(order))
                .collectAsList();
        List<Row> b = spark.read().parquet(fs.current(rootB + "/" + table)).selectExpr(cols.split(", ")).orderBy(columns(order))
                .collectAsList();
        assertFalse(a.isEmpty(), table + " is empty");
        assertEquals(b, a, table + " differs between " + rootA + " and " + rootB);
    }

    /** A checkpoint's state with the tokens/s of its metrics zeroed: wall-clock figures differ between runs. */
    static Checkpoints.State withoutThroughput(Checkpoints.State s) {
        return new Checkpoints.State(s.step(), s.seed(), s.spaceYaml(), s.srcVocab(), s.tgtVocab(), s.srcVocabFingerprint(),
                s.tgtVocabFingerprint(), s.metrics().stream().map(m -> new SupernetTrainer.Metrics(m.step(), m.trainLoss(),
                        m.gradNorm(), m.validLossLargest(), m.validLossSmallest(), 0)).toList());
    }

    static org.apache.spark.sql.Column[] columns(String names) {
        return java.util.Arrays.stream(names.split(", ")).map(org.apache.spark.sql.functions::col)
                .toArray(org.apache.spark.sql.Column[]::new);
    }

    /** Names of temporaries (._tmp-, ._old-, .tmp) anywhere under a root. */
    static List<String> tempNames(String root) throws IOException {
        List<String> names = new ArrayList<>();
        Path p = new Path(root);
        RemoteIterator<LocatedFileStatus> it = p.getFileSystem(spark.sparkContext().hadoopConfiguration()).listFiles(p, true);
        while (it.hasNext()) {
            String s = it.next().getPath().toString();
            if (s.contains("._tmp-") || s.contains("._old-") || s.endsWith(".tmp")) {
                names.add(s);
            }
        }
        return names;
    }

    /**
     * Every file under {@code root} (listed through the Hadoop FS API) whose bytes contain {@code needle};
     * Parquet files are also decoded record by record, since a compressed page need not hold the
     * value's bytes as they are.
     */
    static List<String> filesContaining(String root, String needle, List<String> scanned) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path p = new Path(root);
        FileSystem fs = p.getFileSystem(conf);
        byte[] bytes = needle.getBytes(StandardCharsets.UTF_8);
        List<String> hits = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
        while (it.hasNext()) {
            Path f = it.next().getPath();
            scanned.add(f.toString());
            boolean hit;
            try (var in = fs.open(f)) {
                hit = indexOf(in.readAllBytes(), bytes) >= 0;
            }
            if (!hit && f.getName().endsWith(".parquet")) {
                try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), f).withConf(conf).build()) {
                    for (Group g = r.read(); g != null && !hit; g = r.read()) {
                        hit = g.toString().contains(needle);
                    }
                }
            }
            if (hit) {
                hits.add(f.toString());
            }
        }
        return hits;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }
}
