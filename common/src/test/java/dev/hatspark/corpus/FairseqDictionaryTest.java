package dev.hatspark.corpus;

import static dev.hatspark.corpus.FairseqDataBinTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class FairseqDictionaryTest {

    @Test
    void linesAfterTheImplicitSpecials() {
        FairseqDictionary d = FairseqDictionary.parse(List.of("the 10", "new york 3", "a@@ 2"), "dict.en.txt");
        assertEquals(7, d.size());
        assertEquals("<s> <pad> </s> <unk>", String.join(" ", d.symbol(0), d.symbol(1), d.symbol(2), d.symbol(3)));
        assertEquals(4, d.id("the"));
        assertEquals("new york", d.symbol(5), "the symbol is everything before the last space");
        assertEquals(FairseqDictionary.UNK, d.id("york"));
    }

    @Test
    void decodeStopsAtEosAndDropsPadding() {
        FairseqDictionary d = FairseqDictionary.parse(List.of("the 10", "cat 3", "a@@ 2", "b 1"), "d");
        assertEquals("the <unk> cat", d.decode(new int[] {4, 3, 1, 5, 2, 4, 4}));
        assertEquals("", d.decode(new int[] {2}));
        assertEquals("a@@ b", d.decode(new int[] {6, 7, 2, 1, 1}));
        assertEquals("ab", FairseqDictionary.removeBpe(d.decode(new int[] {6, 7, 2})));
        assertMessage(() -> d.decode(new int[] {4, 8}), "d: token id 8 out of range [0, 8)");
    }

    @Test
    void removeBpeAsFairseq() {
        assertEquals("the cat sat", FairseqDictionary.removeBpe("the c@@ at s@@ a@@ t"));
        assertEquals("abc", FairseqDictionary.removeBpe("abc@@"), "a trailing marker goes too");
        assertEquals("a@@b", FairseqDictionary.removeBpe("a@@b"), "only '@@ ' is a marker");
    }

    @Test
    void overwriteFlagAllowsARepeat() {
        FairseqDictionary d = FairseqDictionary.parse(List.of("the 10", "<unk> 0 #fairseq:overwrite", "the 1 #fairseq:overwrite"), "d");
        assertEquals(7, d.size(), "every line takes a new id");
        assertEquals(6, d.id("the"), "the later line wins");
        assertEquals(5, d.id("<unk>"));
        assertEquals("the", d.symbol(4));
    }

    @Test
    void badLines() {
        assertMessage(() -> FairseqDictionary.parse(List.of("the 10", "cat"), "dict.en.txt"),
                "dict.en.txt: line 2 is not \"<symbol> <count>\": \"cat\"");
        assertMessage(() -> FairseqDictionary.parse(List.of("the x"), "d"), "d: line 1 is not");
        assertMessage(() -> FairseqDictionary.parse(List.of(""), "d"), "d: line 1 is not");
        assertMessage(() -> FairseqDictionary.parse(List.of("the 10", "the 3"), "d"),
                "d: line 2 repeats symbol \"the\" (id 4) without #fairseq:overwrite");
        assertMessage(() -> FairseqDictionary.parse(List.of("</s> 3"), "d"), "d: line 1 repeats symbol \"</s>\" (id 2)");
    }
}
