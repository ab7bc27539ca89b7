package dev.hatspark.jobs.analysis;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.latency.LatencyPredictor;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.jobs.store.Tables;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.search.Pareto;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.Layers;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * report: one self-contained HTML file per run root (ECharts and the data inlined, no network needed
 * to open it): latency vs loss of every candidate with the Pareto front, best loss per generation per
 * budget, predicted vs measured latency, each winner's architecture layer by layer, and the trained
 * subnets when {@code subnets/} exists.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write a self-contained HTML report of a run root (default <root>/report/index.html).")
public final class Report implements Job<Report.Result> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ECHARTS_POM = "/META-INF/maven/org.webjars.npm/echarts/pom.properties";

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--out", description = "Output file; default <root>/report/index.html")
    public String out;

    @Override
    public String name() {
        return "report";
    }

    /** Where the report went and what it shows. */
    public record Result(String path, int sweeps, int predictors, boolean subnets, List<String> charts) {
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String target = out != null ? out : layout.report();
        Page page = new Page();
        page.html.append("<h1>hat-spark run report</h1>\n<p class=\"muted\">run root <code>")
                .append(esc(layout.root())).append("</code></p>\n");
        List<String> sweeps = fs.listIds(layout.sweeps()).stream().filter(id -> fs.exists(layout.sweep(id).population())).toList();
        List<String> predictors = fs.listIds(layout.predictors()).stream()
                .filter(hw -> fs.exists(LatencyPredictor.folder(fs, layout, hw).features())).toList();
        if (sweeps.isEmpty() && predictors.isEmpty()) {
            throw new BadInputException(layout.root() + " has no sweeps/*/population and no"
                    + " latency predictor: run sweep, fit-predictor or import-hat-predictor first");
        }
        for (String id : sweeps) {
            sweep(spark, page, layout, id);
        }
        for (String hw : predictors) {
            predictor(spark, page, layout, hw);
        }
        String subnets = layout.subnetResults(); // written by evaluate when it has run
        boolean hasSubnets = fs.hasCurrent(subnets);
        if (hasSubnets) {
            subnets(spark, page, subnets);
        }
        fs.writeText(target, page.render());
        return new Result(target, sweeps.size(), predictors.size(), hasSubnets,
                page.charts.stream().map(c -> (String) c.get("id")).toList());
    }

    private static void sweep(SparkSession spark, Page page, Layout layout, String id) {
        Layout.Sweep dir = layout.sweep(id);
        Dataset<Row> pop = spark.read().parquet(dir.population());
        pop.createOrReplaceTempView("hat_report_population");
        page.html.append("<h2>Sweep <code>").append(esc(id)).append("</code></h2>\n");

        List<Pareto.Point> points = new ArrayList<>();
        // full-set losses only (a candidate that lost its race has a subset loss, not comparable)
        for (Row r : spark.sql("SELECT config_hash, min(predicted_latency_ms), min(val_loss) FROM hat_report_population"
                + " WHERE val_loss IS NOT NULL GROUP BY config_hash ORDER BY config_hash").collectAsList()) {
            points.add(new Pareto.Point(r.getDouble(1), r.getDouble(2), r.getString(0)));
        }
        List<Double> budgets = spark.sql("SELECT DISTINCT budget_ms FROM hat_report_population ORDER BY budget_ms")
                .as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList();
        Map<String, Object> scatter = page.chart("pareto", "pareto-" + id,
                points.size() + " evaluated candidates (distinct configs) and their latency/loss Pareto front");
        scatter.put("points", points.stream().map(p -> List.of(p.latencyMs(), p.loss(), p.id())).toList());
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        List<Pareto.Point> front = Pareto.front(points);
        if (fs.hasCurrent(dir.front())) { // the sweep's own front/ table (sweeps before it had none)
            front = spark.read().parquet(fs.current(dir.front())).orderBy("predicted_latency_ms").collectAsList().stream()
                    .map(r -> new Pareto.Point(r.getAs("predicted_latency_ms"), r.getAs("val_loss"), r.getAs("config_hash"))).toList();
        }
        scatter.put("front", front.stream().map(p -> List.of(p.latencyMs(), p.loss(), p.id())).toList());
        scatter.put("budgets", budgets);

        Map<String, List<List<Number>>> progress = new LinkedHashMap<>();
        for (Row r : spark.sql("SELECT budget_ms, generation, min(val_loss) FROM hat_report_population"
                + " WHERE val_loss IS NOT NULL GROUP BY budget_ms, generation ORDER BY budget_ms, generation").collectAsList()) {
            progress.computeIfAbsent(ms(r.getDouble(0)), k -> new ArrayList<>()).add(List.of(r.getInt(1), r.getDouble(2)));
        }
        page.chart("progress", "progress-" + id, "Best validation loss per generation, one line per budget")
                .put("series", progress);

        String runs = fs.current(dir.runs());
        if (fs.hasCurrent(dir.runs()) && Set.of(spark.read().parquet(runs).columns()).contains("full_tokens")) {
            Row cost = spark.read().parquet(runs).first();
            page.html.append("<p>Pareto front: ").append(front.size()).append(" configs. Target tokens evaluated: ")
                    .append(cost.<Long>getAs("subset_tokens")).append(" on the racing subset, ")
                    .append(cost.<Long>getAs("full_tokens")).append(" on the whole validation set.</p>\n");
        }
        String best = dir.best();
        if (!fs.hasCurrent(best)) {
            return;
        }
        page.html.append("<h3>Winners</h3>\n<table><tr><th>budget</th><th>config</th><th>predicted latency</th>"
                + "<th>validation loss</th><th>found in generation</th></tr>\n");
        List<Row> winners = spark.read().parquet(fs.current(best)).orderBy("budget_ms").collectAsList();
        for (Row w : winners) {
            page.html.append("<tr><td>").append(esc(ms(w.getAs("budget_ms")))).append("</td><td><code>")
                    .append(esc(w.getAs("config_hash"))).append("</code></td><td>")
                    .append(esc(ms(w.getAs("predicted_latency_ms")))).append("</td><td>")
                    .append(String.format("%.4f", w.<Double>getAs("val_loss"))).append("</td><td>")
                    .append(w.<Integer>getAs("found_in_generation")).append("</td></tr>\n");
        }
        page.html.append("</table>\n");
        for (Row w : winners) {
            ArchConfig c = ArchConfig.fromJson(w.getAs("config_json"));
            Map<String, Object> arch = page.chart("arch", "arch-" + id + "-" + ms(w.getAs("budget_ms")),
                    "Winner under " + ms(w.getAs("budget_ms")) + ": " + w.getAs("config_hash") + ", encoder embed "
                            + c.encoderEmbedDim() + ", decoder embed " + c.decoderEmbedDim()
                            + " (box width: FFN dim; lines: the encoder layers each decoder layer attends to)");
            arch.put("layers", Layers.of(c));
        }
    }

    private static void predictor(SparkSession spark, Page page, Layout layout, String hw) {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout.Predictor dir = LatencyPredictor.folder(fs, layout, hw);
        page.html.append("<h2>Latency predictor <code>").append(esc(hw)).append("</code></h2>\n");
        if (fs.exists(dir.importRecord())) { // HAT's trained network, imported: where it came from
            try {
                var rec = JSON.readTree(fs.readText(dir.importRecord()));
                page.html.append("<p>HAT's trained predictor, imported from <code>").append(esc(rec.path("source").asText()))
                        .append("</code> (SHA-256 <code>").append(esc(rec.path("sha256").asText().substring(0, 12)))
                        .append("</code>, layers ").append(esc(rec.path("layers").toString())).append(", latency norm ")
                        .append(esc(rec.path("latNorm").asText())).append(", space <code>").append(esc(rec.path("space").asText()))
                        .append("</code>), not fitted here.</p>\n");
            } catch (JsonProcessingException e) {
                throw new BadInputException(dir.importRecord() + ": not JSON (" + e.getOriginalMessage() + ")");
            }
        }
        String metrics = dir.metrics();
        if (fs.exists(metrics)) {
            // the labels' retest error beside each model's error: a model far above it is flagged (older tables: -)
            page.html.append("<table><tr><th>model</th><th>split</th><th>RMSE (ms)</th><th>RMSE / mean</th>"
                    + "<th>label noise</th><th>far above noise</th><th>R²</th><th>Kendall τ</th><th>n</th></tr>\n");
            for (Row m : spark.read().schema(Tables.PREDICTOR_METRICS).parquet(metrics).orderBy("model", "split").collectAsList()) {
                Boolean above = m.getAs("above_noise");
                page.html.append("<tr><td>").append(esc(m.getAs("model"))).append("</td><td>").append(esc(m.getAs("split")))
                        .append("</td><td>").append(num(m.getAs("rmse_ms"))).append("</td><td>")
                        .append(num(m.getAs("rmse_rel"))).append("</td><td>")
                        .append(m.getAs("label_noise_rel") == null ? "-" : num(m.getAs("label_noise_rel"))).append("</td><td>")
                        .append(above == null ? "-" : above ? "yes" : "no").append("</td><td>").append(num(m.getAs("r2")))
                        .append("</td><td>").append(num(m.getAs("kendall_tau"))).append("</td><td>")
                        .append(m.<Long>getAs("n")).append("</td></tr>\n");
            }
            page.html.append("</table>\n");
        }
        if (!fs.exists(dir.predictions())) { // imported without measurements of this id: nothing to compare with
            page.html.append("<p>No measurements of this hardware id to compare its predictions with.</p>\n");
            return;
        }
        Map<String, List<List<Object>>> bySplit = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(dir.predictions()).orderBy("split", "config_hash")
                .select("split", "measured_latency_ms", "predicted_latency_ms", "config_hash").collectAsList()) {
            bySplit.computeIfAbsent(r.getString(0), k -> new ArrayList<>())
                    .add(List.of(r.getDouble(1), r.getDouble(2), r.getString(3)));
        }
        page.chart("accuracy", "accuracy-" + hw, "Predicted vs measured latency of every timed config (MLP; y = x is a perfect prediction)")
                .put("series", bySplit);
    }

    private static void subnets(SparkSession spark, Page page, String path) {
        Dataset<Row> t = spark.read().parquet(new Fs(spark.sparkContext().hadoopConfiguration()).current(path));
        // the columns shown, in this order, where the table has them
        List<String> cols = new ArrayList<>();
        Set<String> has = Set.of(t.columns());
        for (String c : List.of("budget_ms", "config_hash", "predicted_latency_ms", "measured_latency_ms",
                "label_noise_rel", "meets_budget", "bleu", "params")) {
            if (has.contains(c)) {
                cols.add(c);
            }
        }
        page.html.append("<h2>Trained subnets</h2>\n<table><tr>");
        cols.forEach(c -> page.html.append("<th>").append(esc(c)).append("</th>"));
        page.html.append("</tr>\n");
        Dataset<Row> rows = t.selectExpr(cols.toArray(new String[0]));
        for (Row r : (has.contains("budget_ms") ? rows.orderBy("budget_ms") : rows).collectAsList()) {
            page.html.append("<tr>");
            for (int i = 0; i < cols.size(); i++) {
                Object v = r.get(i);
                page.html.append("<td>").append(v instanceof Double d ? num(d) : esc(String.valueOf(v))).append("</td>");
            }
            page.html.append("</tr>\n");
        }
        page.html.append("</table>\n");
    }

    /** The HTML body built so far plus the chart specs the page's script draws. */
    private static final class Page {
        final StringBuilder html = new StringBuilder();
        final List<Map<String, Object>> charts = new ArrayList<>();

        Map<String, Object> chart(String kind, String id, String caption) {
            String elementId = "chart-" + charts.size();
            html.append("<figure><div class=\"chart ").append(kind).append("\" id=\"").append(elementId)
                    .append("\" data-chart=\"").append(esc(id)).append("\"></div><figcaption>").append(esc(caption))
                    .append("</figcaption></figure>\n");
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("id", id);
            spec.put("element", elementId);
            spec.put("kind", kind);
            charts.add(spec);
            return spec;
        }

        String render() throws JsonProcessingException {
            Map<String, String> parts = new LinkedHashMap<>();
            parts.put("BODY", html.toString());
            // JSON inside <script>: '<' escaped so no string can close the element
            parts.put("DATA", JSON.writeValueAsString(Map.of("charts", charts)).replace("<", "\\u003c")
                    .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"));
            parts.put("ECHARTS", echarts());
            parts.put("SCRIPT", resource("/report/report.js"));
            return fill(resource("/report/report.html"), parts);
        }
    }

    /** Replaces every {{NAME}} of the template in one pass (inserted text is never scanned again). */
    static String fill(String template, Map<String, String> parts) {
        Matcher m = Pattern.compile("\\{\\{([A-Z]+)}}").matcher(template);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = parts.get(m.group(1));
            if (v == null) {
                throw new IllegalStateException("report template has no value for " + m.group());
            }
            m.appendReplacement(b, Matcher.quoteReplacement(v));
        }
        return m.appendTail(b).toString();
    }

    /** ECharts' bundled build from its webjar on the classpath (so the report needs no network). */
    static String echarts() {
        Properties pom = new Properties();
        try (InputStream in = Report.class.getResourceAsStream(ECHARTS_POM)) {
            if (in == null) {
                throw new IllegalStateException("the ECharts webjar is not on the classpath (" + ECHARTS_POM + ")");
            }
            pom.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return resource("/META-INF/resources/webjars/echarts/" + pom.getProperty("version") + "/dist/echarts.min.js");
    }

    private static String resource(String name) {
        try (InputStream in = Report.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String esc(Object s) {
        String v = String.valueOf(s);
        StringBuilder b = new StringBuilder(v.length());
        for (char ch : v.toCharArray()) {
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    private static String ms(double v) {
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format("%.1f", v)) + " ms";
    }

    private static String num(Double v) {
        return v == null || v.isNaN() ? "" : String.format("%.3f", v);
    }
}
