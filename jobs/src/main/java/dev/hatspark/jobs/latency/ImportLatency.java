package dev.hatspark.jobs.latency;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.jobs.store.Tables;
import dev.hatspark.latency.Measurement;
import dev.hatspark.latency.MeasurementCsv;
import dev.hatspark.space.DesignSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * import-latency: files measurement CSVs (hat-measure's, or HAT's published format) into
 * {@code latency/measurements/} under the hardware id given on the command line, and records the
 * design space of that hardware id's data in {@code latency/imports/<hw>.json} for fit-predictor and
 * sweep. A file with a bad row is rejected whole (nothing written) unless {@code --skip-bad-rows};
 * rows already there are not added again, so a rerun changes nothing.
 */
@Command(name = "import-latency", mixinStandardHelpOptions = true,
        description = "Import latency measurements (hat-measure CSV or HAT's CSV) under a hardware id into latency/measurements/.")
public final class ImportLatency implements Job<ImportLatency.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(ImportLatency.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--hardware-id", required = true, description = "Id to file the rows under, e.g. raspberry-pi-4 (letters, digits, . _ -)")
    public String hardwareId;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "CSV files (any Hadoop path)")
    public List<String> files;

    @Option(names = "--space", description = "Design space of the measurements (built-in name or YAML path); default: the one the rows name"
            + " (hat-measure), hat-wmt14 (HAT's CSV)")
    public String space;

    @Option(names = "--cpu-model", description = "CPU description stored with rows of HAT's CSV, which carry none")
    public String cpuModel;

    @Option(names = "--skip-bad-rows", description = "Import the good rows of a file with bad ones (each reported) instead of rejecting it")
    public boolean skipBadRows;

    @Override
    public String name() {
        return "import-latency";
    }

    /** What an import did. */
    public record Result(String hardwareId, String space, long rows, long added, long alreadyThere, long badSkipped,
                         boolean hat10Only) {
    }

    @Override
    public Result run(SparkSession spark) throws IOException {
        Hardware.checkId(hardwareId);
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        DesignSpace given = space == null ? null : Spaces.given(fs, space);
        String hatSpace = given != null ? given.name : "hat-wmt14";
        MeasurementCsv.HatContext ctx = new MeasurementCsv.HatContext(hardwareId, cpuModel, hatSpace);

        // parse every file before writing anything: a bad file stops the whole import
        List<MeasurementCsv.Parsed> parsed = new ArrayList<>();
        List<MeasurementCsv.BadRow> bad = new ArrayList<>();
        for (String f : files) {
            if (!fs.exists(f)) {
                throw new BadInputException(f + " does not exist");
            }
            MeasurementCsv.Parsed p = MeasurementCsv.parse(fs.readText(f), f, ctx);
            if (p.rows().isEmpty() && p.bad().isEmpty()) {
                throw new BadInputException(f + ": no measurement rows after the header");
            }
            parsed.add(p);
            bad.addAll(p.bad());
            LOG.info("import-latency: {}: {} format, {} good rows, {} bad", f, p.format(), p.rows().size(), p.bad().size());
        }
        if (skipBadRows) { // rejected files name their first bad row in the error instead
            bad.stream().limit(50).forEach(b -> LOG.warn("import-latency: bad row {}", b));
        }
        if (!bad.isEmpty() && !skipBadRows) {
            Set<String> badFiles = new LinkedHashSet<>();
            bad.forEach(b -> badFiles.add(b.source()));
            throw new BadInputException(bad.size() + " bad row" + (bad.size() > 1 ? "s" : "") + " in " + String.join(", ", badFiles)
                    + ", first " + bad.get(0) + "; nothing imported (--skip-bad-rows imports the good rows)");
        }

        DesignSpace ds = resolveSpace(fs, layout, given, parsed);
        ImportRecord before = ImportRecord.read(fs, layout, hardwareId);
        if (before != null) {
            DesignSpace had = before.designSpace(layout);
            List<String> diff = had.differences(ds, "already imported", "this import");
            if (!diff.isEmpty()) {
                throw new BadInputException("hardware id '" + hardwareId + "' already holds measurements of design space '"
                        + had.name + "', these are of '" + ds.name + "': " + String.join("; ", diff)
                        + ": import them under another hardware id");
            }
        }

        Set<String> seen = existingKeys(spark, fs, layout);
        List<Row> rows = new ArrayList<>();
        List<ImportRecord.Entry> entries = new ArrayList<>(before == null ? List.of() : before.imports());
        long total = 0, added = 0, already = 0;
        boolean hat10Only = false;
        for (int i = 0; i < parsed.size(); i++) {
            MeasurementCsv.Parsed p = parsed.get(i);
            long fileAdded = 0;
            for (Measurement m : p.rows()) {
                hat10Only |= (Boolean) m.get("hat10_only");
                if (seen.add(m.configHash())) {
                    rows.add(Tables.measurementRow(m.withHardwareId(hardwareId)));
                    fileAdded++;
                }
            }
            total += p.rows().size();
            added += fileAdded;
            already += p.rows().size() - fileAdded;
            entries.add(new ImportRecord.Entry(files.get(i), p.format(), p.rows().size(), fileAdded, p.rows().size() - fileAdded,
                    p.bad().size(), Instant.now().toString()));
        }
        if (!rows.isEmpty()) {
            fs.appendParquet(spark.createDataFrame(rows, Tables.LATENCY_MEASUREMENTS), layout.latencyMeasurements(), "hardware_id");
        }
        // written after the rows: a crash in between leaves rows a rerun recognises and records
        new ImportRecord(hardwareId, ds.name, ds.yaml(), entries).write(fs, layout);
        LOG.info("import-latency: {} rows under hardware id '{}' (space {}): {} added, {} already there, {} bad rows skipped",
                total, hardwareId, ds.name, added, already, bad.size());
        return new Result(hardwareId, ds.name, total, added, already, bad.size(), hat10Only);
    }

    /**
     * The design space of the rows: --space when given (it must match the name the rows carry), else
     * the supernet's when its name matches, else the built-in of that name; one per import.
     */
    private static DesignSpace resolveSpace(Fs fs, Layout layout, DesignSpace given, List<MeasurementCsv.Parsed> parsed) {
        Set<String> names = new LinkedHashSet<>();
        parsed.forEach(p -> p.rows().forEach(m -> names.add((String) m.get("space"))));
        if (names.size() > 1) {
            throw new BadInputException("the files hold measurements of several design spaces " + names
                    + ": import them under separate hardware ids");
        }
        if (given != null) {
            if (!names.isEmpty() && !names.contains(given.name)) {
                throw new BadInputException("--space is '" + given.name + "' but the rows were measured in '"
                        + names.iterator().next() + "'");
            }
            return given;
        }
        String name = names.isEmpty() ? "hat-wmt14" : names.iterator().next();
        try {
            return Spaces.named(fs, layout, name);
        } catch (BadInputException e) {
            throw new BadInputException("the rows were measured in design space '" + name
                    + "', which is neither built in nor the supernet's: pass its YAML with --space");
        }
    }

    /** Keys of the rows already filed under this hardware id. */
    private Set<String> existingKeys(SparkSession spark, Fs fs, Layout layout) {
        Set<String> keys = new HashSet<>();
        if (fs.exists(layout.latencyMeasurements())) {
            spark.read().parquet(layout.latencyMeasurements()).where(col("hardware_id").equalTo(hardwareId))
                    .select("config_hash").distinct().as(org.apache.spark.sql.Encoders.STRING()).collectAsList()
                    .forEach(keys::add);
        }
        return keys;
    }
}
