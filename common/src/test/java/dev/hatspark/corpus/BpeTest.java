package dev.hatspark.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BpeTest {

    private static final List<String> SENTENCES = List.of(
            "In the beginning God created the heaven and the earth.",
            "And the earth was without form, and void; and darkness was upon the face of the deep.",
            "And God said, Let there be light: and there was light.",
            "And God saw the light, that it was good: and God divided the light from the darkness.",
            "En el principio crió Dios los cielos y la tierra.",
            "Y la tierra estaba desordenada y vacía, y las tinieblas estaban sobre la haz del abismo.",
            "Y dijo Dios: Sea la luz: y fué la luz.",
            "Y vió Dios que la luz era buena; y apartó Dios la luz de las tinieblas.",
            "¿Quién subirá al monte de Jehová? ¡Bendito el que viene en el nombre del Señor!",
            "Y llamó Dios á la luz Día, y á las tinieblas llamó Noche.");

    private static Map<String, Long> counts(List<String> sentences) {
        Map<String, Long> counts = new HashMap<>();
        for (String s : sentences) {
            for (String w : Pretokenizer.words(s)) {
                counts.merge(w, 1L, Long::sum);
            }
        }
        return counts;
    }

    private static Bpe model() {
        return Bpe.learn(counts(SENTENCES), 140, 1); // this corpus runs out of pairs at 150
    }

    private static byte[] bytes(Bpe bpe) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bpe.write(out);
        return out.toByteArray();
    }

    @Test
    void roundTripsEnglishAndSpanish() {
        Bpe bpe = model();
        for (String s : SENTENCES) {
            int[] ids = bpe.encode(s);
            assertEquals(s, bpe.decode(ids));
            assertFalse(Arrays.stream(ids).anyMatch(id -> id == Vocab.UNK), s);
            assertTrue(ids.length < s.length(), "merges should compress: " + s);
        }
        // unseen sentence over the same alphabet
        String unseen = "La luz de Dios; the good heaven.";
        assertEquals(unseen, bpe.decode(bpe.encode(unseen)));
    }

    @Test
    void decodeSkipsSpecials() {
        Bpe bpe = model();
        int[] ids = bpe.encode("Sea la luz.");
        int[] wrapped = new int[ids.length + 3];
        wrapped[0] = Vocab.BOS;
        System.arraycopy(ids, 0, wrapped, 1, ids.length);
        wrapped[ids.length + 1] = Vocab.EOS;
        wrapped[ids.length + 2] = Vocab.PAD;
        assertEquals("Sea la luz.", bpe.decode(wrapped));
    }

    @Test
    void learningIsDeterministicRegardlessOfInsertionOrder() {
        Map<String, Long> counts = counts(SENTENCES);
        Bpe a = Bpe.learn(counts, 140, 1);
        Bpe b = Bpe.learn(counts, 140, 1);
        List<String> keys = new ArrayList<>(counts.keySet());
        Collections.shuffle(keys, new Random(42));
        Map<String, Long> shuffled = new LinkedHashMap<>();
        keys.forEach(k -> shuffled.put(k, counts.get(k)));
        Bpe c = Bpe.learn(shuffled, 140, 1);
        assertEquals(a.merges(), b.merges());
        assertEquals(a.merges(), c.merges());
        assertEquals(a.vocab(), c.vocab());
        assertEquals(a.fingerprint(), c.fingerprint());
    }

    /**
     * Hand-worked: pairs (weighted) are e s = s t = 6+3 = 9, w e = 2+6 = 8, ▁ l = l o = o w = 5+2 = 7.
     * 1. "e s" (9, ties "s t" and wins on "e" < "s"); 2. "es t" (9); 3. "l o" (7; "l" < "o" < "▁");
     * 4. "lo w" (7); 5. "▁ low" (7); 6. "e w" (6, ties "n e", "w est", "▁ n"; "e" is smallest).
     */
    @Test
    void mergesMostFrequentPairFirst() {
        Map<String, Long> counts = Map.of("▁low", 5L, "▁lower", 2L, "▁newest", 6L, "▁widest", 3L);
        int alphabet = 11; // ▁ l o w e r n s t i d
        Bpe bpe = Bpe.learn(counts, Vocab.SPECIALS.size() + alphabet + 6, 1);
        assertEquals(List.of("e s", "es t", "l o", "lo w", "▁ low", "e w"), bpe.merges());
        assertEquals(21, bpe.vocab().size());
        assertEquals("▁low", bpe.vocab().token(19)); // 4 specials + 11 characters + 4 earlier merges
        assertEquals(List.of("▁low", "est"), tokens(bpe, "lowest"));
    }

    @Test
    void vocabSizeIsExactWhenPairsSuffice() {
        Map<String, Long> counts = counts(SENTENCES);
        for (int size : new int[] {80, 120, 140}) {
            assertEquals(size, Bpe.learn(counts, size, 1).vocab().size());
        }
        // asking for more than the data supports stops when no pair occurs twice
        Bpe all = Bpe.learn(counts, 100_000, 1);
        assertTrue(all.vocab().size() < 100_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bpe.learn(counts, 10, 1));
        assertTrue(e.getMessage().contains("vocabSize"), e.getMessage());
    }

    @Test
    void unknownAndRareCharactersMapToUnk() {
        // 'q' occurs once: below minCharCount 2, so it stays out of the alphabet
        Map<String, Long> counts = Map.of("▁abc", 10L, "▁cab", 5L, "▁q", 1L);
        Bpe bpe = Bpe.learn(counts, 30, 2);
        assertFalse(bpe.vocab().contains("q"));
        assertEquals(Vocab.UNK, bpe.vocab().id("z"));
        // merges: a b, ab c, ▁ abc, c ab, ▁ cab -- none applies across the unknown 'z'
        int[] ids = bpe.encode("abzc q");
        assertEquals(List.of("▁", "ab", "<unk>", "c", "▁", "<unk>"), tokens(ids, bpe));
        assertEquals("abc", bpe.decode(ids)); // specials, <unk> included, are skipped
    }

    @Test
    void writeReadPreservesModel() throws IOException {
        Bpe bpe = model();
        byte[] data = bytes(bpe);
        assertTrue(new String(data, StandardCharsets.UTF_8).startsWith("#hat-bpe v2\n"));
        Bpe back = Bpe.read(new ByteArrayInputStream(data));
        assertEquals(bpe, back);
        assertEquals(bpe.fingerprint(), back.fingerprint());
        assertEquals(16, bpe.fingerprint().length());
        assertArrayEquals(data, bytes(back));
        for (String s : SENTENCES) {
            assertArrayEquals(bpe.encode(s), back.encode(s));
        }
        assertNotEquals(bpe.fingerprint(), Bpe.learn(counts(SENTENCES), 120, 1).fingerprint());
    }

    @Test
    void writeReadEscapesOddTokens() throws IOException {
        // learn() accepts any words; spaces, backslashes and '#' lines must survive the text format
        Map<String, Long> counts = Map.of("a b\\c", 4L, "#merges", 3L, "x\ny", 2L);
        Bpe bpe = Bpe.learn(counts, 40, 1);
        Bpe back = Bpe.read(new ByteArrayInputStream(bytes(bpe)));
        assertEquals(bpe, back);
        assertEquals(bpe.fingerprint(), back.fingerprint());
    }

    @Test
    void malformedFileGivesLineNumberedMessage() throws IOException {
        // header, "#vocab 9", 9 tokens (lines 3-11), "#merges 2", "a b", "ab ab" (line 14)
        String good = new String(bytes(Bpe.learn(Map.of("▁abab", 3L), 9, 1)), StandardCharsets.UTF_8);
        assertEquals(List.of("a b", "ab ab"), Bpe.read(new ByteArrayInputStream(good.getBytes(StandardCharsets.UTF_8))).merges());
        assertMalformed("#hat-bpe v3\n", "line 1: expected header");
        assertMalformed(good.replace("#hat-bpe v2", "#hat-bpe v1"), "line 1: '#hat-bpe v1' vocabulary uses the old special ids");
        assertMalformed(good.replace("#vocab 9", "#vocab seven"), "line 2: expected '#vocab <count>'");
        assertMalformed(good.replace("<unk>", "<oov>"), "line 6: expected special token '<unk>'");
        assertMalformed(good.replace("ab ab\n", "abab\n"), "line 14: expected 'left right'");
        assertMalformed(good.replace("ab ab\n", "a zz\n"), "line 14: expected a merge whose");
        assertMalformed(good.replace("\nab\n", "\na\n"), "line 10: expected a new token, not a repeat of line 7");
        assertMalformed(good + "extra\n", "line 15: expected end of file");
        assertMalformed(good.substring(0, good.indexOf("#merges")), "got end of file");
    }

    private static void assertMalformed(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Bpe.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one-line message: " + e.getMessage());
    }

    @Test
    void encodeIsThreadSafe() {
        Bpe bpe = model();
        List<String> texts = new ArrayList<>(SENTENCES);
        texts.add("Sea la luz y la tierra; the heaven and the deep.");
        List<int[]> expected = texts.stream().map(model()::encode).toList();
        IntStream.range(0, 2000).parallel().forEach(i -> {
            int k = i % texts.size();
            assertArrayEquals(expected.get(k), bpe.encode(texts.get(k)));
        });
    }

    private static List<String> tokens(Bpe bpe, String text) {
        return tokens(bpe.encode(text), bpe);
    }

    private static List<String> tokens(int[] ids, Bpe bpe) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(bpe.vocab().token(id));
        }
        return out;
    }
}
