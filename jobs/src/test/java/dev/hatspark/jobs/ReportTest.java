package dev.hatspark.jobs;

import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.analysis.Report;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The report of a real small run: a self-contained HTML file that headless Chromium opens with no
 * console output, every chart drawn with marks. Leaves target/report-screenshot.png as a build artefact.
 * Skips the browser part when Chromium is missing, unless HAT_REQUIRE_CHROMIUM=1 (CI) makes that a failure.
 */
class ReportTest {
    static final Path SCREENSHOT = Path.of("target", "report-screenshot.png").toAbsolutePath();
    static SparkSession spark;
    static String root;

    @BeforeAll
    static void build() throws Exception {
        spark = SmallRun.spark();
        root = SmallRun.root(spark);
    }

    static Report.Result report(String root) throws Exception {
        Report r = new Report();
        r.run.root = root;
        return (Report.Result) r.run(spark);
    }

    @Test
    void selfContainedReportWithEveryChartAndNoSubnetsSection() throws Exception {
        Report.Result r = report(root);
        assertEquals(Path.of(root, "report", "index.html").toString(), r.path());
        assertEquals(1, r.sweeps());
        assertEquals(1, r.predictors());
        assertFalse(r.subnets());
        long winners = spark.read().parquet(root + "/sweeps/small/best").count();
        assertEquals(List.of("pareto-small", "progress-small"), r.charts().subList(0, 2));
        assertEquals(winners, r.charts().stream().filter(c -> c.startsWith("arch-small-")).count());
        assertTrue(r.charts().get(r.charts().size() - 1).startsWith("accuracy-"), r.charts().toString());
        String html = Files.readString(Path.of(r.path()));
        assertFalse(html.contains("Trained subnets"), "no subnets/ table, no subnets section");
        // nothing fetched from elsewhere: every script inline, no stylesheets or images by URL
        String markup = html.replaceAll("(?s)<script([^>]*)>.*?</script>", "<script$1></script>");
        assertEquals(3, count(markup, "<script"), "data, ECharts and the page's script");
        assertFalse(Pattern.compile("<(script|img|iframe)[^>]*\\ssrc=|<link\\s", Pattern.CASE_INSENSITIVE).matcher(markup).find(),
                "no external resources");
        assertTrue(html.contains("echarts"), "ECharts inlined");
        assertEquals(html, Files.readString(Path.of(report(root).path())), "a rerun writes the same report");
    }

    @Test
    void subnetsSectionWhenTheTableExistsWithItsStringsEscaped() throws Exception {
        String subnets = root + "/subnets/results";
        StructType schema = new StructType().add("config_hash", DataTypes.StringType).add("budget_ms", DataTypes.DoubleType)
                .add("bleu", DataTypes.DoubleType).add("measured_latency_ms", DataTypes.DoubleType)
                .add("predicted_latency_ms", DataTypes.DoubleType).add("params", DataTypes.LongType);
        spark.createDataFrame(List.of(RowFactory.create("<img src=x onerror=alert(1)>", 9.0, 12.5, 8.25, 8.5, 1234L),
                RowFactory.create("0123456789abcdef", 4.0, 10.0, 3.5, 3.75, 999L)), schema).write().parquet(subnets);
        try {
            Report.Result r = report(root);
            assertTrue(r.subnets());
            String html = Files.readString(Path.of(r.path()));
            int section = html.indexOf("<h2>Trained subnets</h2>");
            assertTrue(section > 0, "subnets section");
            String table = html.substring(section, html.indexOf("</table>", section));
            assertTrue(table.contains("&lt;img src=x onerror=alert(1)&gt;"), table);
            assertFalse(table.contains("<img"), "strings from tables are escaped");
            assertTrue(table.indexOf("<td>4 ms</td>") < table.indexOf("<td>9 ms</td>")
                    || table.indexOf("<td>4.000</td>") < table.indexOf("<td>9.000</td>"), "ordered by budget: " + table);
            assertTrue(table.contains("12.500") && table.contains("8.250"), table);
        } finally {
            new Fs(spark.sparkContext().hadoopConfiguration()).delete(subnets);
        }
    }

    @Test
    void aRunRootWithNothingToReportIsOneClearLine(@TempDir Path empty) {
        var e = assertThrows(IllegalArgumentException.class, () -> report(empty.toString()));
        assertTrue(e.getMessage().contains("has no sweeps/*/population"), e.getMessage());
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(1, Hat.execute("report", "--root", empty.toString()));
        } finally {
            System.setErr(old);
        }
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("hat report: error: " + empty + " has no sweeps"), err.toString());
    }

    // ---- in a real browser ----

    static String chromium() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name).toString();
                }
            }
        }
        if ("1".equals(System.getenv("HAT_REQUIRE_CHROMIUM"))) {
            fail("HAT_REQUIRE_CHROMIUM=1 but no chromium on PATH (.ci/run installs the Debian package)");
        }
        Assumptions.abort("no chromium on PATH: skipping the browser test (apt-get install chromium)");
        return null;
    }

    /** What headless Chromium made of a page: its DOM after scripts ran and its console lines. */
    record Loaded(String dom, List<String> console) {
    }

    static Loaded load(Path page, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                "--enable-logging=stderr", "--v=0", "--user-data-dir=" + Files.createTempDirectory("hat-chromium")));
        cmd.addAll(List.of(extra));
        cmd.add(page.toUri().toString());
        Path out = Files.createTempFile("chromium", ".out");
        Path err = Files.createTempFile("chromium", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 90 s: " + cmd);
        }
        List<String> console = Files.readAllLines(err, StandardCharsets.UTF_8).stream()
                .filter(l -> l.contains(":CONSOLE")).toList();
        return new Loaded(Files.readString(out), console);
    }

    @Test
    void theConsoleCheckCatchesAScriptError(@TempDir Path dir) throws Exception {
        Path page = dir.resolve("broken.html");
        Files.writeString(page, "<html><body><script>null.x();</script></body></html>");
        List<String> console = load(page, "--dump-dom").console();
        assertEquals(1, console.size(), console.toString());
        assertTrue(console.get(0).contains("Uncaught TypeError"), console.toString());
    }

    @Test
    void chromiumDrawsEveryChartWithNoConsoleOutput() throws Exception {
        Report.Result r = report(root);
        Path page = Path.of(r.path());
        Loaded loaded = load(page, "--dump-dom", "--window-size=1200,900");
        assertEquals(List.of(), loaded.console(), "console output while loading the report");
        String dom = loaded.dom();
        assertTrue(dom.contains("data-charts-drawn=\"" + r.charts().size() + "\""), "every chart's script ran");
        int layerLabels = 0;
        for (String id : r.charts()) {
            String chart = element(dom, "data-chart=\"" + Report.esc(id) + "\"");
            int svgs = count(chart, "<svg");
            int marks = count(chart, "<path") + count(chart, "<circle") + count(chart, "<rect");
            assertEquals(1, svgs, id + " drawn as one SVG");
            assertTrue(marks >= (id.startsWith("arch-") ? 2 : 10), id + " has " + marks + " marks");
            if (id.startsWith("pareto-")) {
                long configs = spark.read().parquet(root + "/sweeps/small/population").select("config_hash").distinct().count();
                assertTrue(marks >= configs, id + ": " + marks + " marks for " + configs + " candidates");
            }
            if (id.startsWith("arch-")) {
                assertTrue(chart.contains("E1 · FFN") && chart.contains("D1 · FFN"), id + " labels its layers");
                layerLabels += count(chart, " · FFN ");
            }
        }
        int layers = spark.read().parquet(root + "/sweeps/small/best").collectAsList().stream()
                .mapToInt(w -> dev.hatspark.space.Layers.of(dev.hatspark.space.ArchConfig.fromJson(w.getAs("config_json"))).size()).sum();
        assertEquals(layers, layerLabels, "one box per layer of every winner");
        Files.deleteIfExists(SCREENSHOT);
        Loaded shot = load(page, "--screenshot=" + SCREENSHOT, "--window-size=1200,3600", "--hide-scrollbars");
        assertEquals(List.of(), shot.console());
        assertTrue(Files.size(SCREENSHOT) > 20_000, "screenshot " + SCREENSHOT + " has content");
    }

    /** The outer HTML of the element whose start tag contains {@code attr} (elements are div-balanced). */
    static String element(String dom, String attr) {
        int at = dom.indexOf(attr);
        assertTrue(at > 0, attr + " in the DOM");
        int start = dom.lastIndexOf("<div", at);
        Matcher m = Pattern.compile("<div\\b|</div>").matcher(dom);
        int depth = 0;
        m.region(start, dom.length());
        while (m.find()) {
            depth += m.group().equals("</div>") ? -1 : 1;
            if (depth == 0) {
                return dom.substring(start, m.end());
            }
        }
        throw new AssertionError("unbalanced <div> after " + attr);
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
