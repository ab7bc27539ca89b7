package dev.hatspark.torch;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * torch.save's zip format (torch 1.6+): {@code <folder>/data.pkl} (the pickle),
 * {@code <folder>/data/<key>} (each storage's raw little-endian bytes) and small bookkeeping entries.
 * The folder is the file's stem or {@code archive}, so data.pkl is found by shape, not name. torch
 * writes data.pkl before the storages; a storage entry met earlier is held in memory until then.
 */
final class ZipFormat {
    private static final String PICKLE = "data.pkl";

    private ZipFormat() {
    }

    static Object read(CheckpointInput in) throws IOException {
        String source = in.source;
        StorageTable storages = new StorageTable(source);
        Map<String, byte[]> early = new LinkedHashMap<>();
        String folder = null; // "<folder>/" once data.pkl is read
        Object root = null;
        ZipEntries zip = new ZipEntries(in);
        for (ZipEntries.Entry entry; (entry = zip.next()) != null; ) {
            String name = entry.name;
            if (folder == null && isPickle(name)) {
                folder = name.substring(0, name.length() - PICKLE.length());
                ZipEntries.Entry pickle = entry;
                root = TorchUnpickler.load(pickle.data(), () -> pickle.ended() || in.ended(), source, storages,
                        "zip entry " + name);
                entry.finish();
            } else if (folder != null && name.startsWith(folder + "data/")) {
                TorchStorage storage = storages.find(name.substring(folder.length() + "data/".length()));
                if (storage == null) {
                    entry.skip(); // no tensor uses it
                } else {
                    if (entry.size() >= 0 && entry.size() != storage.nbytes()) {
                        throw sizeMismatch(source, name, entry.size(), storage);
                    }
                    storage.fill(entry.data(), source);
                    entry.finish();
                }
            } else if (folder == null && name.contains("/data/")) {
                early.put(name, entry.readAll());
            } else if (name.endsWith("/byteorder")) { // written by torch 2.x
                String order = new String(entry.readAll(), StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) {
                    throw TorchCheckpoint.badInput(source, "byte order '" + order + "': only little-endian data is supported");
                }
            } else {
                entry.skip();
            }
        }
        if (folder == null) {
            throw TorchCheckpoint.badInput(source, "not a PyTorch checkpoint: a zip without <folder>/" + PICKLE);
        }
        for (Map.Entry<String, byte[]> e : early.entrySet()) {
            String name = e.getKey();
            TorchStorage storage = name.startsWith(folder + "data/")
                    ? storages.find(name.substring(folder.length() + "data/".length())) : null;
            if (storage != null) {
                if (e.getValue().length != storage.nbytes()) {
                    throw sizeMismatch(source, name, e.getValue().length, storage);
                }
                storage.fill(new ByteArrayInputStream(e.getValue()), source);
            }
        }
        storages.requireFilled("zip entries " + folder + "data/<key>");
        return root;
    }

    /** {@code <folder>/data.pkl} (exactly one folder level) or a bare {@code data.pkl}. */
    private static boolean isPickle(String name) {
        int slash = name.indexOf('/');
        return name.equals(PICKLE) || name.endsWith("/" + PICKLE) && slash == name.length() - PICKLE.length() - 1;
    }

    private static IllegalArgumentException sizeMismatch(String source, String name, long size, TorchStorage storage) {
        return TorchCheckpoint.badInput(source, "zip entry " + name + " has " + size + " bytes, storage "
                + storage.key + " (" + storage.dtype.label + " x " + storage.numel + ") needs " + storage.nbytes());
    }
}
