package dev.hatspark.corpus;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VocabTest {
    @Test
    void specialIdsAreFairseqs() {
        assertEquals(List.of("<s>", "<pad>", "</s>", "<unk>"), Vocab.SPECIALS);
        assertEquals(Vocab.BOS, Vocab.SPECIALS.indexOf("<s>"));
        assertEquals(Vocab.PAD, Vocab.SPECIALS.indexOf("<pad>"));
        assertEquals(Vocab.EOS, Vocab.SPECIALS.indexOf("</s>"));
        assertEquals(Vocab.UNK, Vocab.SPECIALS.indexOf("<unk>"));
        assertEquals(Vocab.EOS, Vocab.DECODER_START, "fairseq's decoder starts from </s>");
    }

    @Test
    void fairseqDictionaryNumbersLinesFromFour() {
        Vocab v = Vocab.fromFairseqDictionary("the 100\n, 90\nHaus@@ 3 #fairseq:overwrite\n", "dict.txt");
        assertEquals(7, v.size());
        assertEquals(4, v.id("the"));
        assertEquals(6, v.id("Haus@@"));
        assertEquals(Vocab.UNK, v.id("xylophone"));
        var e = assertThrows(IllegalArgumentException.class, () -> Vocab.fromFairseqDictionary("the 100\nbad\n", "d.txt"));
        assertTrue(e.getMessage().startsWith("d.txt: line 2 ") && e.getMessage().contains("bad"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Vocab.fromFairseqDictionary("a 2\na 1\n", "d.txt"));
        assertTrue(e.getMessage().startsWith("d.txt: line 2 ") && e.getMessage().contains("\"a\""), e.getMessage());
    }
}
