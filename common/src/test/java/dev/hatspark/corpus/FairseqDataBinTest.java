package dev.hatspark.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Reads the data-bin HAT's own preprocess.py made (test resources hat-oracle/data-bin, see its
 * README): every sentence must decode to its line of raw/, the text that was binarized.
 */
class FairseqDataBinTest {

    static final Map<String, Integer> LINES = Map.of("train", 400, "valid", 40, "test", 40);

    static Path dataBin() throws URISyntaxException {
        return Path.of(FairseqDataBinTest.class.getResource("/hat-oracle/data-bin").toURI());
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toList());
        }
    }

    static FairseqIndexedDataset open(Path dir, String prefix) throws IOException {
        Path p = dir.resolve(prefix);
        try (InputStream idx = Files.newInputStream(Path.of(p + ".idx"));
                InputStream bin = Files.newInputStream(Path.of(p + ".bin"))) {
            return FairseqIndexedDataset.read(idx, bin, p.toString());
        }
    }

    static FairseqDictionary dict(Path dir, String name) throws IOException {
        try (InputStream in = Files.newInputStream(dir.resolve(name))) {
            return FairseqDictionary.read(in, dir.resolve(name).toString());
        }
    }

    @Test
    void findsThePairSplitsAndDictionaries() throws Exception {
        FairseqDataBin bin = FairseqDataBin.find(listing(dataBin()), dataBin().toString());
        assertEquals("en", bin.sourceLang());
        assertEquals("es", bin.targetLang());
        assertEquals(List.of("train", "valid", "test"), bin.splits());
        assertEquals("dict.es.txt", bin.dictFile("es"));
        assertEquals(List.of("valid.en-es.en"), bin.prefixes("valid", "en"));
    }

    @Test
    void dictionariesHaveTheSpecialsThenOneIdALine() throws Exception {
        for (String lang : List.of("en", "es")) {
            FairseqDictionary d = dict(dataBin(), "dict." + lang + ".txt");
            // --joined-dictionary: 3860 lines (7 of them madeupword padding to a multiple of 8) + 4 specials
            assertEquals(3864, d.size());
            assertEquals("</s>", d.symbol(FairseqDictionary.EOS));
            assertEquals(",", d.symbol(4));
            assertEquals(5, d.id("the"));
            assertEquals("madeupword0006", d.symbol(3863));
            assertEquals(FairseqDictionary.UNK, d.id("no-such-word"));
        }
    }

    @Test
    void everySentenceDecodesToItsRawLine() throws Exception {
        Path dir = dataBin();
        FairseqDataBin bin = FairseqDataBin.find(listing(dir), dir.toString());
        int unknownsOutsideTrain = 0;
        for (String lang : List.of("en", "es")) {
            FairseqDictionary d = dict(dir, bin.dictFile(lang));
            for (String split : bin.splits()) {
                List<String> raw = Files.readAllLines(dir.resolve("raw/" + split + "." + lang), StandardCharsets.UTF_8);
                assertEquals(LINES.get(split), raw.size());
                List<String> prefixes = bin.prefixes(split, lang);
                assertEquals(1, prefixes.size());
                FairseqIndexedDataset data = open(dir, prefixes.get(0));
                d.checkCovers(data);
                assertEquals(raw.size(), data.size(), split + "." + lang);
                for (int i = 0; i < data.size(); i++) {
                    int[] ids = data.get(i);
                    assertEquals(ids.length, data.length(i));
                    // fairseq appends </s> to every sentence, and it appears nowhere else
                    assertEquals(FairseqDictionary.EOS, ids[ids.length - 1]);
                    assertEquals(1, Arrays.stream(ids).filter(id -> id == FairseqDictionary.EOS).count());
                    List<String> expected = new ArrayList<>();
                    for (String word : raw.get(i).trim().split("\\s+")) {
                        expected.add(d.contains(word) ? word : "<unk>");
                    }
                    assertEquals(String.join(" ", expected), d.decode(ids), split + "." + lang + " line " + (i + 1));
                    long unknowns = Arrays.stream(ids).filter(id -> id == FairseqDictionary.UNK).count();
                    if (split.equals("train")) {
                        assertEquals(0, unknowns, "the dictionary was built from train");
                    } else {
                        unknownsOutsideTrain += unknowns;
                    }
                    // no BPE in this data-bin: removing it changes nothing
                    assertEquals(d.decode(ids), FairseqDictionary.removeBpe(d.decode(ids)));
                }
            }
        }
        assertTrue(unknownsOutsideTrain > 0, "valid/test words missing from the dictionary become <unk>");
    }

    @Test
    void namesOfShardsAndPairs() {
        List<String> names = new ArrayList<>(List.of("dict.de.txt", "dict.en.txt", "preprocess.log"));
        for (String prefix : List.of("train", "train1", "train2", "test")) {
            for (String lang : List.of("en", "de")) {
                names.add(prefix + ".en-de." + lang + ".bin");
                names.add(prefix + ".en-de." + lang + ".idx");
            }
        }
        FairseqDataBin bin = FairseqDataBin.find(names, "s3a://b/wmt");
        assertEquals(List.of("train", "test"), bin.splits());
        assertFalse(bin.has("valid"));
        assertEquals(List.of("train.en-de.de", "train1.en-de.de", "train2.en-de.de"), bin.prefixes("train", "de"));
        assertMessage(() -> bin.prefixes("valid", "en"), "s3a://b/wmt: no valid split (expected valid.en-de.en.bin/.idx)");

        // fairseq reads en-de files for de->en too
        FairseqDataBin reverse = FairseqDataBin.find(names, "s3a://b/wmt", "de", "en");
        assertEquals("de", reverse.sourceLang());
        assertEquals(List.of("test.en-de.de"), reverse.prefixes("test", "de"));

        List<String> gap = new ArrayList<>(names);
        gap.removeIf(n -> n.startsWith("train1."));
        assertMessage(() -> FairseqDataBin.find(gap, "wmt"), "wmt: train2 present but train1 missing");
        List<String> noDict = new ArrayList<>(names);
        noDict.remove("dict.de.txt");
        assertMessage(() -> FairseqDataBin.find(noDict, "wmt"), "wmt: missing dict.de.txt");
        List<String> noIdx = new ArrayList<>(names);
        noIdx.remove("test.en-de.de.idx");
        assertMessage(() -> FairseqDataBin.find(noIdx, "wmt"), "wmt: missing test.en-de.de.idx");
        List<String> twoPairs = new ArrayList<>(names);
        twoPairs.add("test.en-fr.fr.bin");
        assertMessage(() -> FairseqDataBin.find(twoPairs, "wmt"), "wmt: several language pairs [en-de, en-fr]");
        assertMessage(() -> FairseqDataBin.find(List.of("dict.en.txt"), "wmt"), "wmt: no fairseq data-bin files");
        assertMessage(() -> FairseqDataBin.find(names, "wmt", "en", "fr"), "wmt: no data for en-fr");
    }

    static void assertMessage(Executable call, String start) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
