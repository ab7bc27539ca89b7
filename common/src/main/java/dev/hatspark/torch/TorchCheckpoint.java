package dev.hatspark.torch;

import dev.hatspark.util.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a PyTorch checkpoint ({@code torch.save}) in Java, without Python: the legacy format of
 * torch before 1.6 (HAT's 2020 releases) and the zip format after. The input is read once, front to
 * back, so a Hadoop FileSystem stream (s3a, HDFS) can be passed as is; the weights are held once,
 * float16/bfloat16 widened to float32 as they are read.
 *
 * <p>The result is the pickled object graph: dicts and OrderedDicts as insertion-ordered
 * {@code Map}s, lists as {@code List}, tuples as {@code Object[]}, {@code argparse.Namespace} as a
 * {@code Map<String, Object>} of its attributes, ints as Integer/Long/BigInteger, floats as Double,
 * tensors as {@link TorchTensor}, and objects of any other class as inert {@link PythonObject}s.
 */
public final class TorchCheckpoint {
    private TorchCheckpoint() {
    }

    /**
     * Reads the checkpoint from {@code in} (not closed; bytes after its end are not read).
     * {@code source} names the input in error messages, e.g. its path.
     *
     * @throws IllegalArgumentException when the input is not a checkpoint this reader can decode
     *     (not torch.save output, truncated, an unsupported storage type...); the message names the source
     */
    public static Object read(InputStream in, String source) throws IOException {
        CheckpointInput input = new CheckpointInput(in, source);
        byte[] head = input.peek(4);
        if (head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return ZipFormat.read(input);
        }
        if (head.length > 0 && (head[0] & 0xff) == 0x80) { // pickle PROTO opcode
            return LegacyFormat.read(input);
        }
        throw badInput(source, "not a PyTorch checkpoint: expected a zip (PK\\3\\4) or a legacy torch.save pickle"
                + " (0x80), found " + (head.length == 0 ? "an empty input" : "bytes " + hex(head)));
    }

    /**
     * The tensors of a state dict: {@code root[key]} (e.g. fairseq's {@code "model"}), or {@code root}
     * itself when {@code key} is null, in the checkpoint's order.
     */
    public static Map<String, TorchTensor> stateDict(Object root, String key) {
        Object dict = key == null ? root : root instanceof Map<?, ?> top ? top.get(key) : null;
        String where = key == null ? "the checkpoint" : "entry '" + key + "' of the checkpoint";
        if (!(dict instanceof Map<?, ?> entries)) {
            String keys = root instanceof Map<?, ?> top ? " (its keys: " + top.keySet() + ")" : "";
            throw badInput("state dict", where + " is not a dict" + keys);
        }
        Map<String, TorchTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            if (!(e.getValue() instanceof TorchTensor tensor)) {
                throw badInput("state dict", where + " holds a non-tensor under '" + e.getKey() + "': " + e.getValue());
            }
            tensors.put(String.valueOf(e.getKey()), tensor);
        }
        return tensors;
    }

    /**
     * Every "this input is not a checkpoint we can read" of the package is made here, so its type
     * can change in one place; the message is one line starting with the source.
     */
    static BadInputException badInput(String source, String problem) {
        return new BadInputException(source + ": " + problem.replaceAll("\\s*\\R\\s*", " "));
    }

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            s.append(String.format("%02x ", b & 0xff));
        }
        return s.toString().trim();
    }
}
