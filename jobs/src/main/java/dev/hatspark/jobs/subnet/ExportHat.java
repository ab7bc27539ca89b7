package dev.hatspark.jobs.subnet;

import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.search.HatExport;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Spaces;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * export-hat: configs (a sweep's winners, the largest, any --config) as HAT SubTransformer ymls, and
 * the design space as HAT's SuperTransformer keys, for HAT's {@code train.py --configs <config yml>
 * --sub-configs <common.yml>} on GPUs.
 */
@Command(name = "export-hat", mixinStandardHelpOptions = true,
        description = "Write configs (--sweep winners, --largest, --config) as HAT SubTransformer ymls into --out.")
public final class ExportHat implements Job<ExportHat.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(ExportHat.class);

    @Mixin
    public RunOptions run = new RunOptions();

    @Mixin
    public Targets targets = new Targets();

    @Option(names = "--space", description = "Design space the configs are checked against (a built-in name or a YAML path);"
            + " default: the run root's SuperTransformer's")
    public String space;

    @Option(names = "--out", required = true, description = "Folder (any Hadoop path) the ymls are written into")
    public String out;

    @Override
    public String name() {
        return "export-hat";
    }

    /** The files written: the SuperTransformer yml first, then one per config. */
    public record Result(String out, List<String> files) {
    }

    @Override
    public Result run(SparkSession spark) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        DesignSpace ds = space != null ? Spaces.given(fs, space) : Spaces.supernet(fs, layout).orElseThrow(() ->
                new BadInputException("export-hat: give --space, or a --root with a SuperTransformer checkpoint"));
        Map<Double, HatExport.Winner> winners = targets.sweepId == null ? Map.of()
                : HatExport.winners(spark, fs, layout.sweep(targets.sweepId)).stream()
                .collect(Collectors.toMap(HatExport.Winner::budgetMs, Function.identity()));
        Map<String, String> files = new LinkedHashMap<>();
        try {
            files.put(HatExport.fileName(ds.name, "supertransformer"), ds.toHatYaml());
        } catch (BadInputException e) { // the configs may still be HAT's: export them
            LOG.warn("export-hat: design space '{}' has no HAT SuperTransformer yml: {}", ds.name, e.getMessage());
        }
        for (Targets.Target t : targets.resolve(spark, layout, ds)) {
            switch (t.role()) {
                case "winner" -> {
                    HatExport.Winner w = winners.get(t.budgetMs());
                    files.put(HatExport.fileName(ds.name, w), HatExport.yaml(w));
                }
                case "baseline" -> files.put(HatExport.fileName(ds.name, "largest"),
                        HatExport.yaml(t.config(), "largest config of design space '" + ds.name + "'"));
                default -> files.put(HatExport.fileName(ds.name, t.config().hash()),
                        HatExport.yaml(t.config(), "config of design space '" + ds.name + "'"));
            }
        }
        files.forEach((name, text) -> fs.writeText(Fs.join(out, name), text));
        List<String> paths = files.keySet().stream().map(n -> Fs.join(out, n)).toList();
        LOG.info("export-hat: {} files in {}", paths.size(), out);
        return new Result(out, paths);
    }
}
