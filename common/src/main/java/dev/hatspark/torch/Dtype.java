package dev.hatspark.torch;

import java.util.Map;

/**
 * The element types this reader decodes. Floating types are widened to float32 in memory (HAT trains
 * in fp16, its released checkpoints likely hold half storages); int64 stays long.
 */
enum Dtype {
    FLOAT32("float32", 4),
    FLOAT16("float16", 2),
    BFLOAT16("bfloat16", 2),
    INT64("int64", 8);

    final String label;
    final int size;

    Dtype(String label, int size) {
        this.label = label;
        this.size = size;
    }

    boolean isFloat() {
        return this != INT64;
    }

    /** Legacy storage classes, as pickled by torch.save in both formats (CPU and CUDA alike). */
    private static final Map<String, Dtype> STORAGE_CLASSES = Map.of(
            "FloatStorage", FLOAT32, "HalfStorage", FLOAT16, "BFloat16Storage", BFLOAT16, "LongStorage", INT64);
    /** torch.dtype objects pickle as globals of module torch (e.g. {@code torch.float16}). */
    private static final Map<String, Dtype> DTYPE_NAMES = Map.of(
            "float32", FLOAT32, "float", FLOAT32, "float16", FLOAT16, "half", FLOAT16,
            "bfloat16", BFLOAT16, "int64", INT64, "long", INT64);

    /** The dtype a pickle global names, or null when it names none we decode. */
    static Dtype ofGlobal(String module, String name) {
        if (module.equals("torch") || module.equals("torch.cuda")) {
            Dtype storage = STORAGE_CLASSES.get(name);
            if (storage != null) {
                return storage;
            }
        }
        return module.equals("torch") ? DTYPE_NAMES.get(name) : null;
    }

    @Override
    public String toString() {
        return "torch." + label;
    }
}
