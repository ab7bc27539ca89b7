package dev.hatspark.bleu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BleuTokenizedTest {

    @Test
    void splitsAtWhitespaceOnly() {
        // 13a would split "world." into "world ."; tokenized BLEU keeps the token as it is
        Bleu.Score s = Bleu.corpusTokenized(List.of("hello world."), List.of("hello  world ."));
        assertEquals(2, s.stats().hypLen());
        assertEquals(3, s.stats().refLen());
        assertEquals(1, s.stats().correct()[0]);
        assertEquals(100.0, Bleu.corpusTokenized(List.of("a b c d ."), List.of(" a b c d . ")).bleu(), 1e-9);
        assertEquals(List.of(), Bleu.whitespaceTokens("  "));
    }

    @Test
    void compoundSplitIsFairseqs() {
        assertEquals("state ##AT##-##AT## of ##AT##-##AT## the art", Bleu.compoundSplit("state-of-the art"));
        assertEquals("a ##AT##-##AT## b-c", Bleu.compoundSplit("a-b-c"));
        assertEquals("- a - b", Bleu.compoundSplit("- a - b"));
    }

    @Test
    void signatureSaysTokenized() {
        assertEquals("nrefs:1|case:mixed|eff:no|tok:none|remove-bpe|compound-split|smooth:exp|beam:4|lenpen:0.6|sentences:3",
                Bleu.signatureTokenized(4, 0.6, 3, true));
    }
}
