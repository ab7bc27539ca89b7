package dev.hatspark.corpus;

import static dev.hatspark.corpus.FairseqDataBinTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input fails with one line naming the file; other integer dtypes read like uint16. */
class FairseqIndexedDatasetTest {

    static byte[] idx;
    static byte[] bin;
    static String prefix;

    @BeforeAll
    static void load() throws Exception {
        Path p = FairseqDataBinTest.dataBin().resolve("test.en-es.en");
        prefix = p.toString();
        idx = Files.readAllBytes(Path.of(prefix + ".idx"));
        bin = Files.readAllBytes(Path.of(prefix + ".bin"));
    }

    @Test
    void theRealFilesRead() {
        FairseqIndexedDataset data = FairseqIndexedDataset.read(idx, bin, prefix);
        assertEquals(40, data.size());
        assertEquals(8, idx[17], "HAT's files hold uint16 ids (fairseq dtype code 8)");
    }

    @Test
    void truncatedBin() {
        assertMessage(() -> FairseqIndexedDataset.read(idx, Arrays.copyOf(bin, bin.length - 2), prefix),
                prefix + ".bin: expected 2184 bytes (the 40 sentence sizes in " + prefix + ".idx x 2-byte tokens), found 2182");
    }

    @Test
    void truncatedIdx() {
        assertMessage(() -> FairseqIndexedDataset.read(Arrays.copyOf(idx, idx.length - 8), bin, prefix),
                prefix + ".idx: header says 40 sentences, so expected 26 + 12 x that many bytes, found 498");
        assertMessage(() -> FairseqIndexedDataset.read(Arrays.copyOf(idx, 20), bin, prefix),
                prefix + ".idx: truncated: 20 bytes");
        assertMessage(() -> FairseqIndexedDataset.read(new byte[0], bin, prefix), prefix + ".idx: not a fairseq mmap index");
    }

    @Test
    void wrongMagic() {
        byte[] bad = idx.clone();
        bad[0] = 'X';
        assertMessage(() -> FairseqIndexedDataset.read(bad, bin, prefix),
                prefix + ".idx: not a fairseq mmap index (expected magic \"MMIDIDX\\x00\\x00\")");
        // the data file given as index
        assertMessage(() -> FairseqIndexedDataset.read(bin, bin, prefix), prefix + ".idx: not a fairseq mmap index");
    }

    @Test
    void olderFormatRefused() {
        byte[] legacy = Arrays.copyOf("TNTIDX\0\0".getBytes(StandardCharsets.US_ASCII), 64);
        assertMessage(() -> FairseqIndexedDataset.read(legacy, bin, prefix), prefix
                + ".idx: fairseq's older lazy/cached indexed dataset (magic TNTIDX); only the mmap format "
                + "(fairseq's default --dataset-impl mmap) is read");
    }

    @Test
    void indexOfAnotherSplit() throws Exception {
        byte[] validBin = Files.readAllBytes(FairseqDataBinTest.dataBin().resolve("valid.en-es.en.bin"));
        assertMessage(() -> FairseqIndexedDataset.read(idx, validBin, prefix),
                prefix + ".bin: expected 2184 bytes");
    }

    @Test
    void inconsistentPointersOrHeader() {
        byte[] moved = idx.clone();
        ByteBuffer.wrap(moved).order(ByteOrder.LITTLE_ENDIAN).putLong(26 + 4 * 40 + 8 * 3, 1000);
        assertMessage(() -> FairseqIndexedDataset.read(moved, bin, prefix),
                prefix + ".idx: sentence 3 starts at byte 1000, expected ");
        byte[] version = idx.clone();
        version[9] = 2;
        assertMessage(() -> FairseqIndexedDataset.read(version, bin, prefix), prefix + ".idx: index version 2, expected 1");
        byte[] floats = idx.clone();
        floats[17] = 6;
        assertMessage(() -> FairseqIndexedDataset.read(floats, bin, prefix),
                prefix + ".idx: dtype code 6 is not an integer type");
    }

    @Test
    void tokenOutsideTheDictionary() throws Exception {
        FairseqIndexedDataset data = FairseqIndexedDataset.read(idx, bin, prefix);
        List<String> lines = Files.readAllLines(FairseqDataBinTest.dataBin().resolve("dict.en.txt"));
        FairseqDictionary small = FairseqDictionary.parse(lines.subList(0, 100), "dict.en.txt");
        assertMessage(() -> small.checkCovers(data),
                prefix + ".bin: token id " + data.maxTokenId() + " is outside dict.en.txt (ids 0..103)");
    }

    /** An index + data pair as fairseq's writer lays it out, for any dtype. */
    static byte[][] write(int dtype, int width, long[][] sentences) {
        ByteBuffer i = ByteBuffer.allocate(26 + 12 * sentences.length).order(ByteOrder.LITTLE_ENDIAN);
        i.put("MMIDIDX\0\0".getBytes(StandardCharsets.US_ASCII)).putLong(1).put((byte) dtype).putLong(sentences.length);
        int tokens = 0;
        for (long[] s : sentences) {
            i.putInt(s.length);
            tokens += s.length;
        }
        ByteBuffer b = ByteBuffer.allocate(tokens * width).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] s : sentences) {
            i.putLong(b.position());
            for (long t : s) {
                switch (width) {
                    case 1: b.put((byte) t); break;
                    case 2: b.putShort((short) t); break;
                    case 4: b.putInt((int) t); break;
                    default: b.putLong(t);
                }
            }
        }
        return new byte[][] {i.array(), b.array()};
    }

    @Test
    void everyIntegerDtype() {
        int[][] codesAndWidths = {{1, 1}, {2, 1}, {3, 2}, {4, 4}, {5, 8}, {8, 2}, {9, 4}, {10, 8}};
        for (int[] cw : codesAndWidths) {
            byte[][] files = write(cw[0], cw[1], new long[][] {{5, 100, 2}, {}, {120, 2}});
            FairseqIndexedDataset data = FairseqIndexedDataset.read(files[0], files[1], "x");
            assertEquals(3, data.size());
            assertArrayEquals(new int[] {5, 100, 2}, data.get(0), "dtype " + cw[0]);
            assertArrayEquals(new int[] {}, data.get(1));
            assertArrayEquals(new int[] {120, 2}, data.get(2));
            assertEquals(120, data.maxTokenId());
        }
        byte[][] wide = write(8, 2, new long[][] {{65535, 2}});
        assertArrayEquals(new int[] {65535, 2}, FairseqIndexedDataset.read(wide[0], wide[1], "x").get(0), "unsigned");
        byte[][] negative = write(3, 2, new long[][] {{4, -7, 2}});
        assertMessage(() -> FairseqIndexedDataset.read(negative[0], negative[1], "x"),
                "x.bin: token id -7 at byte 2 is not a valid id");
        byte[][] huge = write(5, 8, new long[][] {{1L << 40}});
        assertMessage(() -> FairseqIndexedDataset.read(huge[0], huge[1], "x"), "x.bin: token id 1099511627776 at byte 0");
    }
}
