package dev.hatspark.torch;

import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * torch.save's pre-1.6 format (HAT's 2020 releases): five blocks back to back, the magic number,
 * the protocol version and sys_info pickles, the main pickle, the list of storage keys, then each
 * storage as an int64 element count and its raw little-endian data in that list's order. The main
 * pickle comes first, so its tensors point at empty storages that the data blocks then fill.
 */
final class LegacyFormat {
    private static final BigInteger MAGIC = new BigInteger("119547037146038801333356");
    private static final int PROTOCOL_VERSION = 1001;

    private LegacyFormat() {
    }

    static Object read(CheckpointInput in) throws IOException {
        String source = in.source;
        Object magic = pickle(in, null, "magic-number pickle");
        if (!(magic instanceof Number) || !new BigInteger(magic.toString()).equals(MAGIC)) {
            throw TorchCheckpoint.badInput(source, "not a PyTorch checkpoint: a pickle, but its first object is "
                    + abbreviate(magic) + ", not torch.save's magic number " + MAGIC);
        }
        Object protocol = pickle(in, null, "protocol-version pickle");
        if (!(protocol instanceof Number n) || n.intValue() != PROTOCOL_VERSION) {
            throw TorchCheckpoint.badInput(source, "unsupported legacy torch.save protocol version "
                    + abbreviate(protocol) + " (expected " + PROTOCOL_VERSION + ")");
        }
        if (pickle(in, null, "sys_info pickle") instanceof Map<?, ?> sysInfo
                && Boolean.FALSE.equals(sysInfo.get("little_endian"))) {
            throw TorchCheckpoint.badInput(source, "big-endian checkpoint: only little-endian data is supported");
        }
        StorageTable storages = new StorageTable(source);
        Object root = pickle(in, storages, "main pickle");
        if (!(pickle(in, null, "storage-key pickle") instanceof List<?> keys)) {
            throw TorchCheckpoint.badInput(source, "the legacy storage-key pickle is not a list");
        }
        for (Object key : keys) {
            readStorage(in, storages, String.valueOf(key));
        }
        storages.requireFilled("the storage-key list");
        return root;
    }

    private static void readStorage(CheckpointInput in, StorageTable storages, String key) throws IOException {
        TorchStorage storage = storages.find(key);
        if (storage == null) { // its element size is unknown, so its bytes could not even be skipped
            throw TorchCheckpoint.badInput(in.source, "storage " + key + " is listed but no tensor uses it");
        }
        long count = in.readLongLE("element count of storage " + key);
        if (count != storage.numel) {
            throw TorchCheckpoint.badInput(in.source, "storage " + key + " has " + count
                    + " elements in the data, the pickle said " + storage.numel);
        }
        storage.fill(in, in.source);
    }

    private static Object pickle(CheckpointInput in, StorageTable storages, String what) throws IOException {
        return TorchUnpickler.load(in, in::ended, in.source, storages, "legacy " + what);
    }

    private static String abbreviate(Object o) {
        String s = String.valueOf(o);
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
