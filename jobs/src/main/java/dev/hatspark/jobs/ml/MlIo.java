package dev.hatspark.jobs.ml;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Save/load of params and schema checks shared by {@link MlpRegressor} and {@link MlpRegressionModel}.
 *
 * <p>Spark's DefaultParamsWriter/Reader, which write the "metadata" file, are {@code private[ml]}
 * (and their signatures changed in Spark 4), so this writes the same JSON itself from public Param
 * API: class, timestamp, sparkVersion, uid, paramMap, defaultParamMap. PipelineModel.load reads
 * that file to find the stage's class and then calls its static {@code read()}.
 */
final class MlIo {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MlIo() {
    }

    /** Writes {@code path/metadata} as a one-line text file, as DefaultParamsWriter does. */
    @SuppressWarnings("unchecked")
    static void saveMetadata(Params instance, String path, SparkContext sc) {
        ObjectNode meta = JSON.createObjectNode()
                .put("class", instance.getClass().getName())
                .put("timestamp", System.currentTimeMillis())
                .put("sparkVersion", sc.version())
                .put("uid", instance.uid());
        ObjectNode set = meta.putObject("paramMap");
        ObjectNode defaults = meta.putObject("defaultParamMap");
        for (Param<?> p : instance.params()) {
            Param<Object> param = (Param<Object>) p;
            if (instance.isSet(param)) set.set(param.name(), parse(param.jsonEncode(instance.get(param).get())));
            if (instance.hasDefault(param)) defaults.set(param.name(), parse(param.jsonEncode(instance.getDefault(param).get())));
        }
        JavaSparkContext.fromSparkContext(sc)
                .parallelize(List.of(meta.toString()), 1)
                .saveAsTextFile(new Path(path, "metadata").toString());
    }

    /** Reads {@code path/metadata} and checks it was written for {@code expected}. */
    static JsonNode loadMetadata(String path, SparkSession spark, Class<?> expected) {
        String text = spark.read().text(new Path(path, "metadata").toString()).first().getString(0);
        JsonNode meta = parse(text);
        String cls = meta.path("class").asText();
        if (!cls.equals(expected.getName())) {
            throw new BadInputException("Metadata at " + path + " is for " + cls + ", not " + expected.getName());
        }
        return meta;
    }

    /**
     * Restores saved defaults, then explicitly set values, like DefaultParamsReader.getAndSetParams.
     * {@code setDefault} is protected in Params, so the owning class passes it in.
     */
    static void setParams(JsonNode meta, Params instance, BiConsumer<Param<Object>, Object> setDefault) {
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.path("defaultParamMap").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Param<Object> param = instance.getParam(e.getKey());
            setDefault.accept(param, param.jsonDecode(e.getValue().toString()));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.path("paramMap").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Param<Object> param = instance.getParam(e.getKey());
            instance.set(param, param.jsonDecode(e.getValue().toString()));
        }
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails with a message naming the column unless it exists and has a vector type. */
    static void requireVector(StructType schema, String role, String column) {
        DataType type = column(schema, role, column);
        if (!SQLDataTypes.VectorType().equals(type)) {
            throw new BadInputException(role + " column '" + column + "' must be of type vector"
                    + " (org.apache.spark.ml.linalg.Vector) but is " + type.catalogString());
        }
    }

    /** Fails with a message naming the column unless it exists and is numeric. */
    static void requireNumeric(StructType schema, String role, String column) {
        DataType type = column(schema, role, column);
        if (!(type instanceof NumericType)) {
            throw new BadInputException(role + " column '" + column + "' must be numeric but is " + type.catalogString());
        }
    }

    private static DataType column(StructType schema, String role, String column) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new BadInputException(role + " column '" + column + "' does not exist; available columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(column).dataType();
    }
}
