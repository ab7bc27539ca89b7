package dev.hatspark.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The local entries of a zip, read front to back without the central directory at its end.
 * java.util.zip.ZipInputStream cannot do this for torch's archives: torch writes uncompressed
 * (stored) entries whose sizes follow the data in a data descriptor, which ZipInputStream rejects
 * ("only DEFLATED entries can have EXT descriptor"). Such an entry's length must come from elsewhere:
 * the pickle ends at its STOP opcode, a storage's size follows from the pickle, and any other entry
 * is scanned for the descriptor that matches the bytes before it. CRCs are checked throughout.
 */
final class ZipEntries {
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_CENTRAL = 0x06054b50;
    private static final int DESCRIPTOR = 0x08074b50;
    private static final int FLAG_ENCRYPTED = 1;
    private static final int FLAG_DESCRIPTOR = 1 << 3;
    private static final int ZIP64_EXTRA = 0x0001;

    private final CheckpointInput in;
    private Entry current;

    ZipEntries(CheckpointInput in) {
        this.in = in;
    }

    /** The next entry, or null at the central directory; the previous one must be finished. */
    Entry next() throws IOException {
        if (current != null && !current.finished) {
            throw new IllegalStateException("zip entry " + current.name + " not finished");
        }
        byte[] header = new byte[30];
        in.readFully(header, 0, 4, "zip, before its central directory");
        int signature = le32(header, 0);
        if (signature == CENTRAL_HEADER || signature == END_OF_CENTRAL) {
            return null;
        }
        if (signature != LOCAL_HEADER) {
            throw TorchCheckpoint.badInput(in.source, String.format("corrupt zip: expected a local entry header, found 0x%08x", signature));
        }
        in.readFully(header, 4, 26, "zip entry header");
        byte[] name = new byte[le16(header, 26)];
        byte[] extra = new byte[le16(header, 28)];
        in.readFully(name, 0, name.length, "zip entry name");
        in.readFully(extra, 0, extra.length, "zip entry header");
        current = new Entry(new String(name, StandardCharsets.UTF_8), header, extra);
        return current;
    }

    final class Entry {
        final String name;
        private final boolean descriptor;
        private final boolean zip64;
        private final long size; // -1: only the data descriptor knows
        private final long headerCrc;
        private final CRC32 crc = new CRC32();
        private long count;
        private boolean ended;
        private boolean finished;

        private Entry(String name, byte[] header, byte[] extra) {
            this.name = name;
            int flags = le16(header, 6);
            int method = le16(header, 8);
            if ((flags & FLAG_ENCRYPTED) != 0 || method != 0) {
                throw TorchCheckpoint.badInput(in.source, "zip entry " + name + " is compressed (method " + method
                        + ") or encrypted; torch.save writes stored entries");
            }
            descriptor = (flags & FLAG_DESCRIPTOR) != 0;
            headerCrc = le32(header, 14) & 0xffffffffL;
            long headerSize = le32(header, 22) & 0xffffffffL;
            long zip64Size = -1;
            boolean sawZip64 = false;
            for (int at = 0; at + 4 <= extra.length; at += 4 + le16(extra, at + 2)) {
                if (le16(extra, at) == ZIP64_EXTRA) {
                    sawZip64 = true;
                    if (le16(extra, at + 2) >= 8 && at + 12 <= extra.length) {
                        zip64Size = le64(extra, at + 4);
                    }
                }
            }
            zip64 = sawZip64;
            if (headerSize == 0xffffffffL) {
                headerSize = zip64Size;
            }
            // with a descriptor the header's size is usually 0 (unknown); a real size is still usable
            size = descriptor && headerSize <= 0 ? -1 : headerSize;
        }

        /** The entry's size when its header tells, else -1. */
        long size() {
            return size;
        }

        /** Whether {@link #data()} ran out (end of entry or of input). */
        boolean ended() {
            return ended;
        }

        /** The entry's bytes; when the size is unknown the reader must stop at the data's own end. */
        InputStream data() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    if (size >= 0 && count >= size) {
                        ended = true;
                        return -1;
                    }
                    int b = in.read();
                    if (b < 0) {
                        ended = true;
                        return -1;
                    }
                    crc.update(b);
                    count++;
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    if (size >= 0) {
                        if (count >= size) {
                            ended = true;
                            return -1;
                        }
                        len = (int) Math.min(len, size - count);
                    }
                    int n = in.read(b, off, len);
                    if (n < 0) {
                        ended = true;
                        return -1;
                    }
                    crc.update(b, off, n);
                    count += n;
                    return n;
                }
            };
        }

        /** After {@link #data()} was read to the entry's end: checks the size and CRC. */
        void finish() throws IOException {
            if (size >= 0 && count != size) {
                throw TorchCheckpoint.badInput(in.source, "zip entry " + name + " has " + size + " bytes, "
                        + count + " were expected");
            }
            long expectedCrc = headerCrc;
            if (descriptor) {
                String what = "zip data descriptor of " + name;
                byte[] word = new byte[4];
                in.readFully(word, 0, 4, what);
                if (le32(word, 0) == DESCRIPTOR) { // the signature is optional
                    in.readFully(word, 0, 4, what);
                }
                expectedCrc = le32(word, 0) & 0xffffffffL;
                byte[] sizes = new byte[zip64 ? 16 : 8];
                in.readFully(sizes, 0, sizes.length, what);
                long compressed = zip64 ? le64(sizes, 0) : le32(sizes, 0) & 0xffffffffL;
                long uncompressed = zip64 ? le64(sizes, 8) : le32(sizes, 4) & 0xffffffffL;
                if (compressed != count || uncompressed != count) {
                    throw TorchCheckpoint.badInput(in.source, "zip entry " + name + " holds " + uncompressed
                            + " bytes by its data descriptor, " + count + " were expected");
                }
            }
            if (expectedCrc != crc.getValue()) {
                throw TorchCheckpoint.badInput(in.source, "zip entry " + name + " fails its CRC check (corrupt file)");
            }
            finished = true;
        }

        /**
         * The whole entry. Without a known size the data ends where a data descriptor (signed, since
         * torch's miniz always signs it) matches the bytes before it in size and CRC; fine for the small
         * entries this is used for.
         */
        byte[] readAll() throws IOException {
            if (size >= 0 || !descriptor) {
                byte[] all = data().readAllBytes();
                finish();
                return all;
            }
            int tail = zip64 ? 24 : 16;
            byte[] seen = new byte[256];
            int length = 0;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw TorchCheckpoint.badInput(in.source, "truncated: the input ended inside zip entry " + name);
                }
                if (length == seen.length) {
                    seen = Arrays.copyOf(seen, 2 * length);
                }
                seen[length++] = (byte) b;
                if (length >= tail && isDescriptorAt(seen, length - tail)) {
                    finished = true;
                    return Arrays.copyOf(seen, length - tail);
                }
            }
        }

        void skip() throws IOException {
            readAll();
        }

        /** Whether a descriptor for the {@code at} bytes before it starts at {@code at}. */
        private boolean isDescriptorAt(byte[] bytes, int at) {
            if (le32(bytes, at) != DESCRIPTOR) {
                return false;
            }
            long compressed = zip64 ? le64(bytes, at + 8) : le32(bytes, at + 8) & 0xffffffffL;
            long uncompressed = zip64 ? le64(bytes, at + 16) : le32(bytes, at + 12) & 0xffffffffL;
            if (compressed != at || uncompressed != at) {
                return false;
            }
            CRC32 check = new CRC32();
            check.update(bytes, 0, at);
            return check.getValue() == (le32(bytes, at + 4) & 0xffffffffL);
        }
    }

    private static int le16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    private static int le32(byte[] b, int at) {
        return le16(b, at) | le16(b, at + 2) << 16;
    }

    private static long le64(byte[] b, int at) {
        return (le32(b, at) & 0xffffffffL) | (long) le32(b, at + 4) << 32;
    }
}
