package dev.hatspark.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every Parquet table of a real small run opens in a reader that is not Spark (DuckDB), with the same
 * rows, columns and standard types, and no file uses the Spark-only INT96 timestamp encoding.
 */
class ParquetReadersTest {
    /** The analyst tables of the README's "Output tables", relative to the run root. */
    static final List<String> ANALYST_TABLES = List.of("corpus/pairs", "supernet/metrics", "evaluations",
            "latency/measurements", "latency/runs", "latency/predictor/*/v-*/metrics", "latency/predictor/*/v-*/predictions",
            "sweeps/small/population", "sweeps/small/best", "sweeps/small/runs");

    static SparkSession spark;
    static Path root;

    @BeforeAll
    static void build() throws Exception {
        spark = SmallRun.spark();
        root = Path.of(SmallRun.root(spark));
    }

    /** Directories holding Parquet files, partition directories ({@code k=v}) folded into their table. */
    static List<Path> tables(Path dir) throws Exception {
        TreeSet<Path> tables = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(p -> p.getFileName().toString().endsWith(".parquet")).forEach(p -> {
                Path t = p.getParent();
                while (t.getFileName().toString().contains("=")) {
                    t = t.getParent();
                }
                tables.add(t);
            });
        }
        return new ArrayList<>(tables);
    }

    static List<Path> parquetFiles(Path dir) throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
    }

    @Test
    void everyTableOpensInDuckDbWithTheSameRowsColumnsAndStandardTypes() throws Exception {
        List<Path> tables = tables(root);
        List<String> relative = tables.stream().map(t -> root.relativize(t).toString()).toList();
        for (String expected : ANALYST_TABLES) {
            assertTrue(relative.stream().anyMatch(r -> r.matches(expected.replace("*", "[^/]+"))),
                    expected + " is among the run's tables " + relative);
        }
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement st = duck.createStatement()) {
            for (Path t : tables) {
                String scan = "read_parquet('" + t + "/**/*.parquet', hive_partitioning = true)";
                Dataset<Row> spark = ParquetReadersTest.spark.read().parquet(t.toString());
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + scan)) {
                    assertTrue(rs.next());
                    assertEquals(spark.count(), rs.getLong(1), "rows of " + t);
                }
                Map<String, String> duckTypes = new LinkedHashMap<>();
                try (ResultSet rs = st.executeQuery("DESCRIBE SELECT * FROM " + scan)) {
                    while (rs.next()) {
                        duckTypes.put(rs.getString("column_name"), rs.getString("column_type"));
                    }
                }
                assertEquals(List.of(spark.columns()).stream().sorted().toList(),
                        duckTypes.keySet().stream().sorted().toList(), "columns of " + t);
                List<String> partitions = partitionColumns(t);
                for (StructField f : spark.schema().fields()) {
                    String expected = duckType(f.dataType());
                    // partition values live in directory names, not in the files: each reader infers their type
                    // (Spark INTEGER, DuckDB BIGINT for generation=N); the README says so
                    if (expected != null && !partitions.contains(f.name())) {
                        assertEquals(expected, duckTypes.get(f.name()), t + " column " + f.name());
                    }
                }
            }
            // a timestamp reads as the same instant in both
            String runs = root.resolve("sweeps/small/runs").toString();
            long sparkMicros = spark.read().parquet(runs).selectExpr("unix_micros(started_at)").first().getLong(0);
            try (ResultSet rs = st.executeQuery("SELECT epoch_us(started_at) FROM read_parquet('" + runs + "/*.parquet')")) {
                assertTrue(rs.next());
                assertEquals(sparkMicros, rs.getLong(1));
            }
        }
    }

    static List<String> partitionColumns(Path table) throws Exception {
        try (Stream<Path> walk = Files.walk(table)) {
            return walk.filter(Files::isDirectory).map(d -> d.getFileName().toString()).filter(n -> n.contains("="))
                    .map(n -> n.substring(0, n.indexOf('='))).distinct().toList();
        }
    }

    /** DuckDB's name of the type a Spark column should read as; null for nested structs (MLlib internals). */
    static String duckType(DataType t) {
        if (t instanceof ArrayType a) {
            String e = duckType(a.elementType());
            return e == null ? null : e + "[]";
        }
        Map<DataType, String> m = Map.of(DataTypes.StringType, "VARCHAR", DataTypes.IntegerType, "INTEGER",
                DataTypes.LongType, "BIGINT", DataTypes.DoubleType, "DOUBLE", DataTypes.BooleanType, "BOOLEAN",
                DataTypes.TimestampType, "TIMESTAMP WITH TIME ZONE", DataTypes.ByteType, "TINYINT",
                DataTypes.FloatType, "FLOAT");
        return m.get(t);
    }

    /** Columns of Parquet files that use INT96 (Spark's legacy timestamp encoding), as "file: column". */
    static List<String> int96Columns(List<Path> files) throws Exception {
        List<String> bad = new ArrayList<>();
        Configuration conf = new Configuration();
        for (Path f : files) {
            try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), conf))) {
                for (ColumnDescriptor c : r.getFooter().getFileMetaData().getSchema().getColumns()) {
                    if (c.getPrimitiveType().getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.INT96) {
                        bad.add(f.getFileName() + ": " + String.join(".", c.getPath()));
                    }
                }
            }
        }
        return bad;
    }

    @Test
    void noFileUsesInt96AndTimestampsAreMicrosecondsUtc() throws Exception {
        List<Path> files = parquetFiles(root);
        assertTrue(files.size() >= ANALYST_TABLES.size(), files.toString());
        assertEquals(List.of(), int96Columns(files));
        Path runs = parquetFiles(root.resolve("sweeps/small/runs")).get(0);
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(runs.toUri()), new Configuration()))) {
            LogicalTypeAnnotation started = r.getFooter().getFileMetaData().getSchema().getType("started_at").getLogicalTypeAnnotation();
            assertEquals(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS), started);
        }
    }

    @Test
    void theInt96CheckCatchesSparksDefaultEncoding(@TempDir Path dir) throws Exception {
        String key = "spark.sql.parquet.outputTimestampType";
        String was = spark.conf().get(key);
        try {
            spark.conf().set(key, "INT96");
            spark.sql("SELECT current_timestamp() AS t").write().parquet(dir.resolve("legacy").toString());
        } finally {
            spark.conf().set(key, was);
        }
        assertEquals(1, int96Columns(parquetFiles(dir)).size());
    }
}
