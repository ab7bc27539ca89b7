package dev.hatspark.torch;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The storages a checkpoint's pickle names, by key; several tensors may share one. */
final class StorageTable implements TorchUnpickler.Storages {
    private final String source;
    private final Map<String, TorchStorage> byKey = new LinkedHashMap<>();

    StorageTable(String source) {
        this.source = source;
    }

    @Override
    public TorchStorage get(String key, Dtype dtype, long numel) {
        TorchStorage known = byKey.get(key);
        if (known == null) {
            if (numel < 0 || numel > Integer.MAX_VALUE - 8) { // Java arrays are int-indexed
                throw TorchCheckpoint.badInput(source, "storage " + key + " has " + numel
                        + " elements; at most " + (Integer.MAX_VALUE - 8) + " are supported");
            }
            known = new TorchStorage(key, dtype, (int) numel);
            byKey.put(key, known);
        } else if (known.dtype != dtype || known.numel != numel) {
            throw TorchCheckpoint.badInput(source, "storage " + key + " is named as " + known.dtype + " x "
                    + known.numel + " and as " + dtype + " x " + numel);
        }
        return known;
    }

    /** The storage under {@code key}, or null when no tensor uses it. */
    TorchStorage find(String key) {
        return byKey.get(key);
    }

    Collection<TorchStorage> all() {
        return byKey.values();
    }

    /** After the data: every storage a tensor uses must have been read. */
    void requireFilled(String where) {
        for (TorchStorage s : byKey.values()) {
            if (!s.filled()) {
                throw TorchCheckpoint.badInput(source, "no data for storage " + s.key + " (expected in " + where + ")");
            }
        }
    }
}
