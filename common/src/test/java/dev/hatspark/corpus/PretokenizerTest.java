package dev.hatspark.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PretokenizerTest {

    @Test
    void englishSentenceSplitsPunctuationWithoutPrefix() {
        assertEquals(List.of("▁In", "▁the", "▁beginning", "▁God", "▁created", "▁the", "▁heaven", "▁and", "▁the",
                        "▁earth", "."),
                Pretokenizer.words("In the beginning God created the heaven and the earth."));
    }

    @Test
    void spanishKeepsAccentsAndCaseAndSplitsInvertedMarks() {
        assertEquals(List.of("▁¿", "Qué", "▁dijo", "▁Él", "?", "▁¡", "Señor", "!"),
                Pretokenizer.words("¿Qué dijo Él? ¡Señor!"));
    }

    @Test
    void normalisesToNfc() {
        // "crió" with a combining acute accent becomes the precomposed ó
        assertEquals(List.of("▁cri\u00f3"), Pretokenizer.words("crio\u0301"));
    }

    @Test
    void whitespaceRunsAndEdgesCollapse() {
        assertEquals(List.of("▁a", "▁b", "▁c"), Pretokenizer.words("  a \t b\n\u00a0c  "));
        assertEquals(List.of(), Pretokenizer.words(" \n "));
        assertEquals(List.of(), Pretokenizer.words(""));
    }

    @Test
    void digitsStayInWordsSymbolsSplitOff() {
        assertEquals(List.of("▁Genesis", "▁1", ":", "1", "▁abc123", "▁$", "5", "▁x", "+", "y", "▁😀"),
                Pretokenizer.words("Genesis 1:1 abc123 $5 x+y 😀"));
    }

    @Test
    void punctuationInsideWordsSplitsWithoutPrefix() {
        assertEquals(List.of("▁don", "'", "t", "▁(", "God", ")", "▁[", "but", "]"),
                Pretokenizer.words("don't (God) [but]"));
    }
}
