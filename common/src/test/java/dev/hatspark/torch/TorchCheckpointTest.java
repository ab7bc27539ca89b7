package dev.hatspark.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Checkpoints written by HAT's PyTorch code (resources/hat-oracle) against their tensors as raw float32. */
class TorchCheckpointTest {
    private static final String DIR = "/hat-oracle/";
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"supernet-legacy.pt", "supernet-zip.pt"})
    void float32CheckpointsHoldTheOracleTensorsBitForBit(String file) throws IOException {
        Map<String, TorchTensor> model = TorchCheckpoint.stateDict(read(file), "model");
        JsonNode index = json("tensors.json").get("tensors");
        ByteBuffer bin = ByteBuffer.wrap(bytes("tensors.bin")).order(ByteOrder.LITTLE_ENDIAN);

        assertEquals(names(index), new ArrayList<>(model.keySet()), "names and order");
        assertEquals(96, model.size());
        for (String name : model.keySet()) {
            TorchTensor tensor = model.get(name);
            JsonNode entry = index.get(name);
            assertArrayEquals(longs(entry.get("shape")), tensor.shape(), name);
            assertEquals("float32", tensor.dtype(), name);
            float[] expected = floatsAt(bin, entry);
            float[] actual = tensor.floats();
            assertEquals(expected.length, actual.length, name);
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                    fail(file + " " + name + "[" + i + "]: " + actual[i] + " != " + expected[i]);
                }
            }
        }
        // share-all-embeddings: one storage, so one array, not two copies
        assertSame(model.get("encoder.embed_tokens.weight").floats(), model.get("decoder.embed_tokens.weight").floats());
    }

    @Test
    void float16CheckpointHoldsTheOracleTensorsRoundedToHalf() throws IOException {
        Map<String, TorchTensor> model = TorchCheckpoint.stateDict(read("supernet-fp16-legacy.pt"), "model");
        JsonNode index = json("tensors.json").get("tensors");
        ByteBuffer bin = ByteBuffer.wrap(bytes("tensors.bin")).order(ByteOrder.LITTLE_ENDIAN);

        assertEquals(names(index), new ArrayList<>(model.keySet()));
        for (String name : model.keySet()) {
            TorchTensor tensor = model.get(name);
            assertEquals("float16", tensor.dtype(), name);
            assertArrayEquals(longs(index.get(name).get("shape")), tensor.shape(), name);
            float[] expected = floatsAt(bin, index.get(name));
            float[] actual = tensor.floats();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(roundToHalf(expected[i]), actual[i], 0f, name + "[" + i + "] from " + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"supernet-legacy.pt", "supernet-zip.pt"})
    void argsNamespaceIsAMapOfItsAttributes(String file) throws IOException {
        Object root = read(file);
        Map<?, ?> args = assertInstanceOf(Map.class, ((Map<?, ?>) root).get("args"));
        JsonNode expected = json("args.json").get("args");

        assertEquals(new TreeSet<>(names(expected)), new TreeSet<>(args.keySet()), "attribute names");
        assertEquals(64, ((Number) args.get("encoder_embed_dim")).intValue());
        assertEquals(32, ((Number) args.get("qkv_dim")).intValue());
        assertEquals(List.of(3, 2, 1), args.get("decoder_layer_num_choice"));
        assertEquals(true, args.get("share_all_embeddings"));
        assertEquals("transformersuper_wmt_en_de", args.get("arch"));
        assertEquals(expected.get("arch").asText(), args.get("arch"));
        assertEquals(expected.get("dropout").asDouble(), (Double) args.get("dropout"));
        assertEquals(List.of(expected.get("lr").get(0).asDouble()), args.get("lr"));
        assertEquals(null, args.get("sub_configs"));
    }

    /** Made by resources/torch-synthetic/make_synthetic.py: dtypes, views and objects HAT's files lack. */
    @ParameterizedTest
    @ValueSource(strings = {"synthetic-legacy.pt", "synthetic-zip.pt"})
    void syntheticCheckpointsCoverDtypesViewsAndObjects(String file) throws IOException {
        byte[] bytes;
        try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("/torch-synthetic/" + file)) {
            bytes = in.readAllBytes();
        }
        Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.read(new ForwardOnlyStream(bytes), file);

        Map<String, TorchTensor> model = TorchCheckpoint.stateDict(root, "model");
        assertEquals(List.of("z.weight", "a.bias"), new ArrayList<>(model.keySet()), "OrderedDict order");
        assertArrayEquals(new float[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, model.get("z.weight").floats());
        assertArrayEquals(new float[]{4, 5, 6, 7}, model.get("a.bias").floats());
        assertArrayEquals(new float[]{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, tensor(root, "transposed").floats());
        assertArrayEquals(new long[]{4, 3}, tensor(root, "transposed").shape());
        assertArrayEquals(new float[]{8, 9, 10, 11}, tensor(root, "param").floats(), "nn.Parameter's data");

        TorchTensor ints = tensor(root, "ints");
        assertEquals("int64", ints.dtype());
        assertArrayEquals(new long[]{-1, 1L << 40, 3, 4, 5, 6}, ints.longs());
        assertThrows(IllegalStateException.class, ints::floats);
        assertEquals("float16", tensor(root, "half").dtype(), "torch.cuda.HalfStorage on cuda:0");
        assertArrayEquals(new float[]{0, -2, 65504, 0x1p-24f, Float.POSITIVE_INFINITY}, tensor(root, "half").floats());
        assertEquals("bfloat16", tensor(root, "bf16").dtype());
        assertArrayEquals(new float[]{1, -3.5f, 0.15625f}, tensor(root, "bf16").floats());
        if (file.contains("legacy")) {
            assertArrayEquals(new float[]{7, 8, 9}, tensor(root, "legacy_view").floats(), "a view of a storage view");
        }

        Map<?, ?> args = (Map<?, ?>) root.get("args");
        assertEquals(List.of("encoder_embed_dim", "choices", "betas", "fp16", "name"), new ArrayList<>(args.keySet()));
        assertEquals(640, args.get("encoder_embed_dim"));
        assertEquals(List.of(3, 2, 1), args.get("choices"));
        assertArrayEquals(new Object[]{0.9, 0.98}, (Object[]) args.get("betas"), "tuples are Object[]");
        assertEquals(true, args.get("fp16"));
        assertTrue(args.containsKey("name") && args.get("name") == null);

        PythonObject unknown = assertInstanceOf(PythonObject.class, root.get("unknown"));
        assertEquals("numpy.core.multiarray.scalar", unknown.global());
        assertEquals("<f8", unknown.args().get(0));
    }

    private static TorchTensor tensor(Map<?, ?> root, String key) {
        return assertInstanceOf(TorchTensor.class, root.get(key), key);
    }

    @Test
    void readsFromAStreamThatOnlyGoesForward() throws IOException {
        for (String file : List.of("supernet-legacy.pt", "supernet-zip.pt", "supernet-fp16-legacy.pt")) {
            Object root = TorchCheckpoint.read(new ForwardOnlyStream(bytes(file)), file);
            Map<String, TorchTensor> streamed = TorchCheckpoint.stateDict(root, "model");
            Map<String, TorchTensor> plain = TorchCheckpoint.stateDict(read(file), "model");
            assertEquals(plain.keySet(), streamed.keySet(), file);
            for (String name : plain.keySet()) {
                assertArrayEquals(plain.get(name).floats(), streamed.get(name).floats(), file + " " + name);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"supernet-legacy.pt", "supernet-zip.pt"})
    void truncatedCheckpointIsReportedWithItsSource(String file) throws IOException {
        byte[] whole = bytes(file);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 100_000); // inside the storage data
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchCheckpoint.read(new ByteArrayInputStream(cut), "cut-" + file));
        assertTrue(e.getMessage().startsWith("cut-" + file + ": truncated"), e.getMessage());
        assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
    }

    @Test
    void nonCheckpointsAreRejectedWithTheirSource() {
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.read(
                new ByteArrayInputStream("encoder_embed_dim: 640\n".getBytes(StandardCharsets.UTF_8)), "conf.yml"));
        assertTrue(text.getMessage().startsWith("conf.yml: not a PyTorch checkpoint"), text.getMessage());

        byte[] plainPickle = {(byte) 0x80, 2, 'K', 5, '.'}; // pickle.dumps(5, 2)
        IllegalArgumentException pickle = assertThrows(IllegalArgumentException.class,
                () -> TorchCheckpoint.read(new ByteArrayInputStream(plainPickle), "five.pkl"));
        assertTrue(pickle.getMessage().startsWith("five.pkl: not a PyTorch checkpoint"), pickle.getMessage());

        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> TorchCheckpoint.read(new ByteArrayInputStream(new byte[0]), "empty.pt"));
        assertTrue(empty.getMessage().startsWith("empty.pt: not a PyTorch checkpoint"), empty.getMessage());
    }

    @Test
    void unsupportedStorageTypeIsNamed() throws IOException {
        // same length, so the pickle stays valid: torch.FloatStorage -> torch.ShortStorage (int16)
        byte[] file = replace(bytes("supernet-legacy.pt"), "torch\nFloatStorage\n", "torch\nShortStorage\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchCheckpoint.read(new ByteArrayInputStream(file), "int16.pt"));
        assertTrue(e.getMessage().startsWith("int16.pt: unsupported storage type torch.ShortStorage"), e.getMessage());
    }

    @Test
    void stridedAndOffsetViewsAreCopiedRowMajor() throws IOException {
        TorchStorage storage = new TorchStorage("0", Dtype.FLOAT32, 12);
        ByteBuffer data = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 12; i++) {
            data.putFloat(i);
        }
        storage.fill(new ByteArrayInputStream(data.array()), "test");
        TorchTensor whole = TorchTensor.view(storage, 0, new long[]{3, 4}, new long[]{4, 1}, "test");
        TorchTensor rows = TorchTensor.view(storage, 4, new long[]{2, 4}, new long[]{4, 1}, "test");
        TorchTensor transposed = TorchTensor.view(storage, 0, new long[]{4, 3}, new long[]{1, 4}, "test");
        TorchTensor column = TorchTensor.view(storage, 2, new long[]{3}, new long[]{4}, "test");
        TorchTensor scalar = TorchTensor.view(storage, 7, new long[]{}, new long[]{}, "test");

        assertSame(whole.floats(), whole.floats(), "a view of the whole storage shares its array");
        assertArrayEquals(new float[]{4, 5, 6, 7, 8, 9, 10, 11}, rows.floats());
        assertArrayEquals(new float[]{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, transposed.floats());
        assertArrayEquals(new float[]{2, 6, 10}, column.floats());
        assertArrayEquals(new float[]{7}, scalar.floats());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchTensor.view(storage, 6, new long[]{2, 4}, new long[]{4, 1}, "test"));
        assertTrue(e.getMessage().contains("does not fit in storage 0"), e.getMessage());
    }

    @Test
    void halfPrecisionDecodesExactly() {
        assertEquals(1f, TorchStorage.halfToFloat((short) 0x3c00));
        assertEquals(-2f, TorchStorage.halfToFloat((short) 0xc000));
        assertEquals(65504f, TorchStorage.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TorchStorage.halfToFloat((short) 0x0001)); // smallest subnormal
        assertEquals(0x1p-14f, TorchStorage.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(Float.NEGATIVE_INFINITY, TorchStorage.halfToFloat((short) 0xfc00));
        assertTrue(Float.isNaN(TorchStorage.halfToFloat((short) 0x7e00)));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(TorchStorage.halfToFloat((short) 0x8000)));
    }

    /** Nearest float16 value, ties to even, computed in double (exact here); weights stay far below 65504. */
    private static float roundToHalf(float x) {
        double magnitude = Math.abs((double) x);
        if (magnitude == 0) {
            return x;
        }
        int exponent = Math.max(Math.getExponent(magnitude), -14); // below 2^-14: subnormal spacing 2^-24
        double ulp = Math.scalb(1.0, exponent - 10);
        return (float) Math.copySign(Math.rint(magnitude / ulp) * ulp, x);
    }

    /** Sequential reads only, in small uneven chunks; anything that would rewind or skip fails. */
    private static final class ForwardOnlyStream extends InputStream {
        private final byte[] data;
        private int position;
        private int calls;

        ForwardOnlyStream(byte[] data) {
            this.data = data;
        }

        @Override
        public int read() {
            return position < data.length ? data[position++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (position >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, 1 + calls++ % 4093), data.length - position);
            System.arraycopy(data, position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public long skip(long n) {
            throw new UnsupportedOperationException("skip");
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public synchronized void mark(int limit) {
            throw new UnsupportedOperationException("mark");
        }

        @Override
        public synchronized void reset() {
            throw new UnsupportedOperationException("reset");
        }
    }

    private static Object read(String file) throws IOException {
        try (InputStream in = TorchCheckpointTest.class.getResourceAsStream(DIR + file)) {
            return TorchCheckpoint.read(in, file);
        }
    }

    private static byte[] bytes(String file) throws IOException {
        try (InputStream in = TorchCheckpointTest.class.getResourceAsStream(DIR + file)) {
            return in.readAllBytes();
        }
    }

    private static JsonNode json(String file) throws IOException {
        return JSON.readTree(bytes(file));
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static float[] floatsAt(ByteBuffer bin, JsonNode entry) {
        float[] out = new float[entry.get("nbytes").asInt() / 4];
        bin.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN).position(entry.get("offset").asInt()).slice()
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static byte[] replace(byte[] haystack, String from, String to) {
        byte[] a = from.getBytes(StandardCharsets.US_ASCII);
        byte[] b = to.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + a.length <= haystack.length; i++) {
            for (int j = 0; j < a.length; j++) {
                if (haystack[i + j] != a[j]) {
                    continue outer;
                }
            }
            byte[] out = haystack.clone();
            System.arraycopy(b, 0, out, i, b.length);
            return out;
        }
        throw new AssertionError(from + " not found");
    }
}
