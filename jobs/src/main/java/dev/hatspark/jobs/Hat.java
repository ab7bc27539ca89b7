package dev.hatspark.jobs;

import dev.hatspark.jobs.store.Spark;
import dev.hatspark.jobs.analysis.Report;
import dev.hatspark.jobs.analysis.Sql;
import dev.hatspark.jobs.bench.CostBenchmark;
import dev.hatspark.jobs.bench.EvalBenchmark;
import dev.hatspark.jobs.bench.PredictorBenchmark;
import dev.hatspark.jobs.bench.ScoringBenchmark;
import dev.hatspark.jobs.cli.Demo;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.Profile;
import dev.hatspark.jobs.corpus.PrepareCorpus;
import dev.hatspark.jobs.latency.FitPredictor;
import dev.hatspark.jobs.latency.ImportHatPredictor;
import dev.hatspark.jobs.latency.ImportLatency;
import dev.hatspark.jobs.latency.MeasureLatency;
import dev.hatspark.jobs.latency.PredictLatency;
import dev.hatspark.jobs.search.Sweep;
import dev.hatspark.jobs.subnet.Evaluate;
import dev.hatspark.jobs.subnet.ExportHat;
import dev.hatspark.jobs.subnet.TrainSubnet;
import dev.hatspark.jobs.supernet.EvalSubnet;
import dev.hatspark.jobs.supernet.ImportHatSupernet;
import dev.hatspark.jobs.supernet.TrainSupernet;
import dev.hatspark.jobs.supernet.ValidateSupernet;
import org.apache.spark.sql.SparkSession;
import dev.hatspark.util.BadInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Entry point: {@code hat <job> [options]}, the same under submit/hat, spark-submit, YARN or EMR. */
@Command(name = "hat", mixinStandardHelpOptions = true, version = "hat-spark 0.1.0",
        description = {"HAT (Hardware-Aware Transformers) architecture search on Spark.",
                "--debug (anywhere) or HAT_DEBUG=1: print the stack trace of a bad-input error too."},
        subcommands = {PrepareCorpus.class, TrainSupernet.class, ImportHatSupernet.class, EvalSubnet.class, MeasureLatency.class, ImportLatency.class,
                FitPredictor.class, ImportHatPredictor.class, PredictLatency.class, Sweep.class, TrainSubnet.class, Evaluate.class, ValidateSupernet.class, Report.class,
                Demo.class, EvalBenchmark.class, Sql.class, PredictorBenchmark.class, ScoringBenchmark.class, CostBenchmark.class, ExportHat.class})
public final class Hat implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 2;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a job; bad input ends with one line naming what was wrong, not a stack trace. */
    public static int execute(String... args) {
        // --debug anywhere on the line (not a job option): stack traces of bad-input errors too
        boolean debug = debug() || java.util.Arrays.asList(args).contains("--debug");
        if (!debug) {
            dev.hatspark.jobs.cli.BadInputLogFilter.install();
        }
        String[] argv = java.util.Arrays.stream(args).filter(a -> !a.equals("--debug")).toArray(String[]::new);
        CommandLine cli = new CommandLine(new Hat());
        Profile profile;
        try {
            profile = Profile.parse(argv);
            profile.validate(cli);
        } catch (BadInputException e) {
            System.err.println("hat: error: " + e.getMessage());
            return 1;
        }
        cli.setDefaultValueProvider(profile);
        cli.setExecutionStrategy(parsed -> {
            var sub = parsed.subcommand();
            if (sub == null || parsed.isUsageHelpRequested() || parsed.isVersionHelpRequested()
                    || sub.isUsageHelpRequested()) {
                return new CommandLine.RunLast().execute(parsed);
            }
            Job<?> job = (Job<?>) sub.commandSpec().userObject();
            boolean ownSession = SparkSession.getActiveSession().isEmpty();
            if (!profile.isEmpty()) {
                System.out.println("hat " + job.name() + ": " + profile.describe()); // secrets masked
            }
            SparkSession spark = Spark.session(job.name(), profile.sparkSettings());
            try {
                long t0 = System.nanoTime();
                Object result = job.run(spark);
                System.out.printf("%s done in %.1f s: %s%n", job.name(), (System.nanoTime() - t0) / 1e9, result);
                return 0;
            } catch (Exception e) {
                BadInputException bad = badInput(e);
                if (bad != null) {
                    System.err.println("hat " + job.name() + ": error: " + bad.getMessage());
                    if (debug) {
                        e.printStackTrace();
                    }
                    return 1;
                }
                throw new CommandLine.ExecutionException(sub.commandSpec().commandLine(),
                        "hat " + job.name() + " failed: " + e, e);
            } finally {
                if (ownSession) {
                    spark.stop();
                }
            }
        });
        return cli.execute(profile.args());
    }

    /**
     * Bad input may surface wrapped, e.g. in a SparkException from a task: find it in the cause chain.
     * Only {@link BadInputException} counts; any other exception (also Hadoop's or Spark's own
     * IllegalArgumentException) is a failure whose stack trace the user needs.
     */
    public static BadInputException badInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadInputException bad) {
                return bad;
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            BadInputException refused = storeRefusal(t);
            if (refused != null) {
                return refused;
            }
        }
        return null;
    }

    /**
     * A store's refusal that the user fixes, not a bug: access denied (S3's 403, which s3a raises as
     * {@link java.nio.file.AccessDeniedException}; a local permission too) or a bucket that does not
     * exist (s3a's UnknownStoreException, named as a string: hadoop-aws is not on every classpath).
     * Named by bucket and key only; AWS's own message (request ids, sometimes the access key id) is left out.
     */
    static BadInputException storeRefusal(Throwable t) {
        if (t instanceof java.nio.file.AccessDeniedException denied) {
            return new BadInputException(objectName(denied.getFile()) + ": access denied (HTTP 403 on S3); check the"
                    + " credentials (AWS_ACCESS_KEY_ID / fs.s3a.access.key) and the bucket's policy", t);
        }
        if (t.getClass().getName().equals("org.apache.hadoop.fs.s3a.UnknownStoreException")
                && t instanceof org.apache.hadoop.fs.PathIOException missing) {
            return new BadInputException(objectName(String.valueOf(missing.getPath())) + ": the bucket does not exist (HTTP 404)", t);
        }
        return null;
    }

    /** {@code bucket 'b', key 'k'} of an s3a/s3 path (credentials, if any, dropped); other paths as they are. */
    static String objectName(String path) {
        if (path == null) {
            return "(unknown path)";
        }
        var m = java.util.regex.Pattern.compile("^(s3[an]?://)(?:[^/@]*@)?([^/]+)/?(.*)$").matcher(path);
        if (!m.matches()) {
            return path;
        }
        return m.group(1) + m.group(2) + "/" + m.group(3) + " (bucket '" + m.group(2) + "', key '" + m.group(3) + "')";
    }

    /** {@code HAT_DEBUG=1} (or {@code -Dhat.debug=true}) prints the stack trace of a bad-input error too. */
    static boolean debug() {
        return "1".equals(System.getenv("HAT_DEBUG")) || Boolean.getBoolean("hat.debug");
    }
}
