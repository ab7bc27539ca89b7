package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One side of one split of a fairseq data-bin: {@code <prefix>.idx} + {@code <prefix>.bin} in
 * fairseq's mmap indexed-dataset format ({@code --dataset-impl mmap}, the default, and HAT's).
 *
 * <p>The .idx is, little-endian: magic {@code "MMIDIDX\0\0"}, uint64 version 1, uint8 dtype code,
 * uint64 sentence count n, int32 sizes[n] (tokens per sentence), int64 pointers[n] (byte offset of
 * each sentence in the .bin). fairseq's writer derives the pointers from the sizes, so sentences lie
 * back to back and the .bin is exactly the sum of sizes times the dtype's width; both are checked,
 * which catches a truncated .bin and an .idx paired with another split's .bin. (Megatron-LM's
 * variant of this format adds a document index after n; fairseq's has none.)
 *
 * <p>Both files are read whole (byte arrays, so below 2 GiB each) from streams or bytes, so callers
 * can use any file system; tokens are decoded on {@link #get}, keeping the .bin at its stored width.
 */
public final class FairseqIndexedDataset {

    private static final byte[] MMAP_MAGIC = "MMIDIDX\0\0".getBytes(StandardCharsets.US_ASCII);
    /** fairseq's older "lazy"/"cached" format (TorchNet), refused: its ids are stored +1 (Lua). */
    private static final byte[] LEGACY_MAGIC = "TNTIDX\0\0".getBytes(StandardCharsets.US_ASCII);
    /** magic 9 + version 8 + dtype 1 + count 8 */
    private static final int HEADER_BYTES = 26;

    private final String source;
    private final int dtype;
    private final int width;
    private final ByteBuffer bin;
    private final int[] sizes;
    private final int[] starts;
    private final int maxTokenId;

    private FairseqIndexedDataset(String source, int dtype, int width, ByteBuffer bin, int[] sizes,
            int[] starts, int maxTokenId) {
        this.source = source;
        this.dtype = dtype;
        this.width = width;
        this.bin = bin;
        this.sizes = sizes;
        this.starts = starts;
        this.maxTokenId = maxTokenId;
    }

    /** Reads both streams to the end (and closes neither); see {@link #read(byte[], byte[], String)}. */
    public static FairseqIndexedDataset read(InputStream idx, InputStream bin, String source) throws IOException {
        return read(idx.readAllBytes(), bin.readAllBytes(), source);
    }

    /**
     * @param source the files' common path prefix, e.g. {@code .../train.en-de.en}; error messages
     *     name {@code source + ".idx"} or {@code source + ".bin"}
     */
    public static FairseqIndexedDataset read(byte[] idxBytes, byte[] binBytes, String source) {
        String idxName = source + ".idx";
        String binName = source + ".bin";
        if (startsWith(idxBytes, LEGACY_MAGIC)) {
            throw bad(idxName, "fairseq's older lazy/cached indexed dataset (magic TNTIDX); only the mmap "
                    + "format (fairseq's default --dataset-impl mmap) is read");
        }
        if (!startsWith(idxBytes, MMAP_MAGIC)) {
            throw bad(idxName, "not a fairseq mmap index (expected magic \"MMIDIDX\\x00\\x00\")");
        }
        if (idxBytes.length < HEADER_BYTES) {
            throw bad(idxName, "truncated: " + idxBytes.length + " bytes, the header alone is " + HEADER_BYTES);
        }
        ByteBuffer idx = ByteBuffer.wrap(idxBytes).order(ByteOrder.LITTLE_ENDIAN);
        long version = idx.getLong(9);
        if (version != 1) {
            throw bad(idxName, "index version " + Long.toUnsignedString(version) + ", expected 1");
        }
        int dtype = Byte.toUnsignedInt(idx.get(17));
        int width = widthOf(dtype, idxName);
        long n = idx.getLong(18);
        // int32 size + int64 pointer per sentence; the division keeps a corrupt huge n from overflowing
        if (n < 0 || n > (idxBytes.length - HEADER_BYTES) / 12 || HEADER_BYTES + 12 * n != idxBytes.length) {
            throw bad(idxName, "header says " + Long.toUnsignedString(n) + " sentences, so expected "
                    + HEADER_BYTES + " + 12 x that many bytes, found " + idxBytes.length
                    + " (truncated, or not fairseq's layout)");
        }
        int[] sizes = new int[(int) n];
        int[] starts = new int[(int) n];
        long offset = 0; // where sentence i must start: right after sentence i-1
        for (int i = 0; i < n; i++) {
            sizes[i] = idx.getInt(HEADER_BYTES + 4 * i);
            long pointer = idx.getLong(HEADER_BYTES + 4 * (int) n + 8 * i);
            if (sizes[i] < 0) {
                throw bad(idxName, "sentence " + i + " has negative size " + sizes[i]);
            }
            if (pointer != offset) {
                throw bad(idxName, "sentence " + i + " starts at byte " + pointer + ", expected " + offset
                        + " (sentences are stored back to back)");
            }
            starts[i] = (int) pointer; // fits once offset (checked below) fits the .bin's length
            offset += (long) sizes[i] * width;
        }
        if (offset != binBytes.length) {
            throw bad(binName, "expected " + offset + " bytes (the " + n + " sentence sizes in " + idxName
                    + " x " + width + "-byte tokens), found " + binBytes.length);
        }
        ByteBuffer bin = ByteBuffer.wrap(binBytes).order(ByteOrder.LITTLE_ENDIAN);
        int max = -1;
        for (int p = 0; p < binBytes.length; p += width) {
            long id = token(bin, dtype, p);
            if (id < 0 || id > Integer.MAX_VALUE) {
                throw bad(binName, "token id " + id + " at byte " + p + " is not a valid id");
            }
            max = Math.max(max, (int) id);
        }
        return new FairseqIndexedDataset(source, dtype, width, bin, sizes, starts, max);
    }

    /** Byte width of fairseq's dtype codes; token ids are integers, so the float codes 6, 7 are refused. */
    private static int widthOf(int dtype, String idxName) {
        switch (dtype) {
            case 1: // uint8
            case 2: // int8
                return 1;
            case 3: // int16
            case 8: // uint16, what fairseq writes for dictionaries below 65500 symbols
                return 2;
            case 4: // int32
            case 9: // uint32 (newer fairseq)
                return 4;
            case 5: // int64
            case 10: // uint64 (newer fairseq)
                return 8;
            default:
                throw bad(idxName, "dtype code " + dtype + " is not an integer type (expected 1-5 or 8-10)");
        }
    }

    private static long token(ByteBuffer bin, int dtype, int p) {
        switch (dtype) {
            case 1:
                return Byte.toUnsignedLong(bin.get(p));
            case 2:
                return bin.get(p);
            case 3:
                return bin.getShort(p);
            case 8:
                return Short.toUnsignedLong(bin.getShort(p));
            case 4:
                return bin.getInt(p);
            case 9:
                return Integer.toUnsignedLong(bin.getInt(p));
            default: // 5, 10: a uint64 above 2^63 reads negative and is refused like any negative id
                return bin.getLong(p);
        }
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The one place this class makes its bad-input exception. */
    private static BadInputException bad(String file, String what) {
        return new BadInputException(file + ": " + what);
    }

    /** @return the number of sentences */
    public int size() {
        return sizes.length;
    }

    /** @return the number of tokens of sentence i, its {@code </s>} included */
    public int length(int i) {
        return sizes[i];
    }

    /** @return the token ids of sentence i; fairseq ends each with {@code </s>} */
    public int[] get(int i) {
        if (i < 0 || i >= sizes.length) {
            throw new IndexOutOfBoundsException("sentence " + i + " of " + sizes.length + " in " + binSource());
        }
        int[] out = new int[sizes[i]];
        for (int k = 0; k < out.length; k++) {
            out[k] = (int) token(bin, dtype, starts[i] + k * width);
        }
        return out;
    }

    /** @return the largest token id in the .bin, -1 if it holds none */
    public int maxTokenId() {
        return maxTokenId;
    }

    public String source() {
        return source;
    }

    String binSource() {
        return source + ".bin";
    }

    @Override
    public String toString() {
        return "FairseqIndexedDataset[" + source + ", " + sizes.length + " sentences]";
    }
}
