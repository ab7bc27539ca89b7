package dev.hatspark.jobs;

import dev.hatspark.jobs.analysis.Sql;
import dev.hatspark.jobs.store.Layout;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every {@code %%sql} cell of every notebook under notebooks/ runs with Spark SQL against a real small
 * run, in notebook order, with the run root substituted into its {@code SET run_root=} cell; a query
 * that fails or returns no rows fails the test.
 */
class NotebooksTest {
    static final Path NOTEBOOKS = Path.of("..", "notebooks");
    static SparkSession spark;
    static String root;

    @BeforeAll
    static void build() throws Exception {
        spark = SmallRun.spark();
        root = SmallRun.root(spark);
    }

    /** The {@code %%sql} cells of a notebook, magic line stripped, in order. */
    static List<String> sqlCells(Path notebook) throws Exception {
        List<String> cells = new ArrayList<>();
        for (JsonNode cell : new ObjectMapper().readTree(notebook.toFile()).path("cells")) {
            if (!cell.path("cell_type").asText().equals("code")) {
                continue;
            }
            StringBuilder src = new StringBuilder();
            cell.path("source").forEach(line -> src.append(line.asText()));
            String text = src.toString();
            if (text.startsWith("%%sql")) {
                cells.add(text.substring(text.indexOf('\n') + 1).trim());
            }
        }
        return cells;
    }

    static List<Path> notebooks() throws Exception {
        try (Stream<Path> s = Files.list(NOTEBOOKS)) {
            return s.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
        }
    }

    @Test
    void everySqlCellRunsAndReturnsRows() throws Exception {
        List<Path> notebooks = notebooks();
        assertTrue(notebooks.size() >= 5, notebooks.toString());
        int queries = 0;
        for (Path nb : notebooks) {
            SparkSession session = spark.newSession(); // a notebook's views are its own
            List<String> cells = sqlCells(nb);
            assertTrue(cells.get(0).startsWith("SET run_root="), nb + ": the first SQL cell sets run_root");
            for (int i = 0; i < cells.size(); i++) {
                String sql = i == 0 ? "SET run_root=" + root : cells.get(i);
                Dataset<Row> result;
                try {
                    result = session.sql(sql);
                } catch (Exception e) {
                    throw new AssertionError(nb.getFileName() + " SQL cell " + (i + 1) + " fails: " + e.getMessage()
                            + "\n" + sql, e);
                }
                if (!sql.startsWith("SET ") && !sql.startsWith("CREATE ")) {
                    assertFalse(result.isEmpty(), nb.getFileName() + " SQL cell " + (i + 1) + " returns no rows:\n" + sql);
                    queries++;
                }
            }
        }
        assertTrue(queries >= 15, "queries run: " + queries);
    }

    /** The Pareto-front query of the first notebook finds what the report's {@link dev.hatspark.search.Pareto} finds. */
    @Test
    void paretoQueryAgreesWithTheReportsFront() throws Exception {
        SparkSession session = spark.newSession();
        List<String> cells = sqlCells(NOTEBOOKS.resolve("01-pareto-front.ipynb"));
        session.sql("SET run_root=" + root);
        cells.stream().filter(c -> c.startsWith("CREATE ")).forEach(session::sql);
        String query = cells.stream().filter(c -> c.contains("best_faster")).findFirst().orElseThrow();
        List<String> sqlFront = session.sql(query).collectAsList().stream().map(r -> r.<String>getAs("config_hash")).toList();
        List<dev.hatspark.search.Pareto.Point> points = session.sql("SELECT config_hash, min(predicted_latency_ms),"
                + " min(val_loss) FROM sweep_population WHERE val_loss IS NOT NULL GROUP BY config_hash").collectAsList().stream()
                .map(r -> new dev.hatspark.search.Pareto.Point(r.getDouble(1), r.getDouble(2), r.getString(0))).toList();
        List<String> javaFront = dev.hatspark.search.Pareto.front(points).stream().map(dev.hatspark.search.Pareto.Point::id).toList();
        assertTrue(javaFront.size() >= 2, javaFront.toString());
        assertEquals(javaFront, sqlFront);
    }

    /** The notebooks' view definitions read the same rows as the sql helper's views of the same name. */
    @Test
    void notebookViewsMatchTheSqlHelpersViews() throws Exception {
        assertViewsMatchTheSqlHelpers(spark, root);
    }

    /** Also run by {@link S3PipelineTest} on its s3a run root, where replaced tables are versioned folders. */
    static void assertViewsMatchTheSqlHelpers(SparkSession spark, String root) throws Exception {
        SparkSession helper = spark.newSession();
        Map<String, String> registered = Sql.register(helper, new Layout(root));
        SparkSession notebook = spark.newSession();
        notebook.sql("SET run_root=" + root);
        int compared = 0;
        for (Path nb : notebooks()) {
            for (String cell : sqlCells(nb)) {
                if (cell.startsWith("CREATE OR REPLACE TEMPORARY VIEW ")) {
                    notebook.sql(cell);
                    String view = cell.split("\\s+")[5];
                    assertTrue(registered.containsKey(view), view + " is registered by hat sql too: " + registered.keySet());
                    assertEquals(helper.table(view).count(), notebook.table(view).count(), view);
                    assertEquals(List.of(helper.table(view).columns()).stream().sorted().toList(),
                            List.of(notebook.table(view).columns()).stream().sorted().toList(), view);
                    compared++;
                }
            }
        }
        assertTrue(compared >= 7, "views compared: " + compared);
    }
}
