package dev.hatspark.bleu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Reference values computed with sacreBLEU 2.6.0 (signature nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp),
 * in a throw-away venv: {@code python -m venv /tmp/sb && /tmp/sb/bin/pip install sacrebleu}, then
 * {@code sacrebleu.corpus_bleu(hyps, [refs])} printing {@code score, counts, totals, sys_len, ref_len} and
 * {@code Tokenizer13a()(s.rstrip())} for the tokenizer cases.
 */
class BleuTest {

    @Test
    void tokenizes13aLikeSacreBleu() {
        assertEquals("Y dijo Dios : Sea la luz ; y fue la luz .", Tokenizer13a.tokenize("Y dijo Dios: Sea la luz; y fue la luz."));
        assertEquals("It costs $ 3,000.50 ( about 1.5 % ) -- in 10 - 20 days !",
                Tokenizer13a.tokenize("It costs $3,000.50 (about 1.5%) -- in 10-20 days!"));
        assertEquals("He said \" no \" & left < now > .",
                Tokenizer13a.tokenize("He said &quot;no&quot; &amp; left &lt;now&gt;."));
        assertEquals("a b c d", Tokenizer13a.tokenize("a\u00a0b\u2009c  d\t"));
        assertEquals("endline x , y 3 . a 'quoted' \" dq \" { b } [ c ]",
                Tokenizer13a.tokenize("end-\nline<skipped> x,y 3.a 'quoted' \"dq\" {b}[c]"));
    }

    @Test
    void corpusBleuMatchesSacreBleu() {
        check(List.of("Y dijo Dios: Sea la luz, y fue la luz.", "En el principio creó Dios los cielos y la tierra.",
                        "Y vió Dios que la luz era buena; y apartó Dios la luz de las tinieblas."),
                List.of("Y dijo Dios: Sea la luz: y fué la luz.", "EN el principio crió Dios los cielos y la tierra.",
                        "Y vió Dios que la luz era buena: y apartó Dios la luz de las tinieblas."),
                71.41498854109213, new long[] {37, 30, 24, 19}, new long[] {42, 39, 36, 33}, 42, 42);
        check(List.of("Sea la luz: y fué la luz. Son 3,000 años (10-20%)."),
                List.of("Sea la luz: y fué la luz. Son 3,000 años (10-20%)."),
                100.00000000000004, new long[] {19, 18, 17, 16}, new long[] {19, 18, 17, 16}, 19, 19);
        check(List.of("He said &quot;no&quot; &amp; left at 3.5 pm, 2,000 times"),
                List.of("He said \"no\" & left at 3.5pm , 2,000 times"),
                67.03420896351791, new long[] {11, 9, 7, 5}, new long[] {13, 12, 11, 10}, 13, 12);
    }

    @Test
    void brevityPenaltyWhenHypothesesAreShorter() {
        Bleu.Score s = check(List.of("la luz de Dios", "los cielos"),
                List.of("Y dijo Dios: Sea la luz de Dios.", "En el principio creó Dios los cielos y la tierra."),
                8.208499862389884, new long[] {6, 4, 2, 1}, new long[] {6, 4, 2, 1}, 6, 21);
        assertEquals(0.0820849986238988, s.brevityPenalty(), 1e-15);
    }

    @Test
    void zeroCountsFollowSacreBleusDefaultSmoothing() {
        // no 4-gram matches: 'exp' smoothing gives that order precision 1 / (2 * 2)
        check(List.of("el perro come pan", "gato blanco corre rápido"), List.of("el perro come carne hoy", "el gato negro corre"),
                29.81074878472585, new long[] {5, 2, 1, 0}, new long[] {8, 6, 4, 2}, 8, 9);
        // no match at all
        check(List.of("uno dos tres"), List.of("cuatro cinco seis"), 0.0, new long[] {0, 0, 0, 0}, new long[] {3, 2, 1, 0}, 3, 3);
        // every proposed n-gram matches but no 4-gram was proposed: 0
        check(List.of("la luz", "Dios"), List.of("la luz", "Dios"), 0.0, new long[] {3, 1, 0, 0}, new long[] {3, 1, 0, 0}, 3, 3);
        // an empty hypothesis contributes reference length only
        assertEquals(0.0, Bleu.corpus(List.of(""), List.of("algo")).bleu());
    }

    @Test
    void clipsRepeatedNgramsToTheReferenceCount() {
        Bleu.Stats s = Bleu.segment("la la la la", "la luz");
        assertArrayEquals(new long[] {1, 0, 0, 0}, s.correct(), "'la' appears once in the reference");
        assertArrayEquals(new long[] {4, 3, 2, 1}, s.total());
    }

    @Test
    void statsAddUpAcrossShards() {
        List<String> h = List.of("Y dijo Dios: Sea la luz", "y fue la luz.", "En el principio");
        List<String> r = List.of("Y dijo Dios: Sea la luz:", "y fué la luz.", "EN el principio crió Dios");
        Bleu.Stats a = Bleu.segment(h.get(0), r.get(0));
        Bleu.Stats b = Bleu.segment(h.get(1), r.get(1)).plus(Bleu.segment(h.get(2), r.get(2)));
        assertEquals(Bleu.corpus(h, r).bleu(), Bleu.score(a.plus(b)).bleu(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Bleu.corpus(h, r.subList(0, 2)));
    }

    private static Bleu.Score check(List<String> hyps, List<String> refs, double bleu, long[] correct, long[] total,
                                    long hypLen, long refLen) {
        Bleu.Score s = Bleu.corpus(hyps, refs);
        assertArrayEquals(correct, s.stats().correct(), "matched n-grams");
        assertArrayEquals(total, s.stats().total(), "hypothesis n-grams");
        assertEquals(hypLen, s.stats().hypLen());
        assertEquals(refLen, s.stats().refLen());
        assertEquals(bleu, s.bleu(), 1e-9, s.toString());
        return s;
    }
}
