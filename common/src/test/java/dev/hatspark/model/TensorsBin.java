package dev.hatspark.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the oracle's {@code tensors.json} + {@code tensors.bin} (raw little-endian float32, index
 * name -> shape, offset) from the test classpath: HAT's state_dict without a .pt reader.
 */
final class TensorsBin {
    private TensorsBin() {
    }

    /** Every tensor of {@code /<dir>/tensors.json}, in the file's (state_dict) order. */
    static Map<String, HatStateDict.Tensor> read(String dir) throws IOException {
        JsonNode index = new ObjectMapper().readTree(resource(dir + "/tensors.json"));
        ByteBuffer bin = ByteBuffer.wrap(resource(dir + "/" + index.get("bin_file").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        Map<String, HatStateDict.Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = index.get("tensors").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode t = e.getValue();
            if (!"float32".equals(t.get("dtype").asText())) {
                throw new IOException(e.getKey() + ": dtype " + t.get("dtype") + ", expected float32");
            }
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            float[] data = new float[t.get("nbytes").asInt() / 4];
            bin.position(t.get("offset").asInt());
            bin.asFloatBuffer().get(data);
            out.put(e.getKey(), new HatStateDict.Tensor(shape, data));
        }
        return out;
    }

    static byte[] resource(String path) throws IOException {
        try (InputStream in = TensorsBin.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("test resource " + path + " is missing");
            }
            return in.readAllBytes();
        }
    }
}
