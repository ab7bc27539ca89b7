package dev.hatspark.corpus;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits raw text into the "words" BPE works on, SentencePiece style: a word that follows whitespace
 * (or starts the text) carries the prefix {@link #SPACE} ('▁', U+2581), so a token sequence decodes
 * by concatenating, replacing '▁' with a space and trimming. Punctuation and symbols (Unicode P* and
 * S*) become one-code-point words of their own; case and digits are kept.
 *
 * <p>Lossy on purpose: whitespace runs collapse to one space, and a literal '▁' in the input (a
 * symbol, so its own word) decodes as a space.
 */
public final class Pretokenizer {

    /** Word-boundary marker, U+2581 LOWER ONE EIGHTH BLOCK. */
    public static final char SPACE = '\u2581';

    private Pretokenizer() {
    }

    public static List<String> words(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFC);
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean afterSpace = true; // start of text counts as after whitespace
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) { // isSpaceChar adds NBSP etc.
                flush(word, out);
                afterSpace = true;
            } else if (isPunctOrSymbol(cp)) {
                flush(word, out);
                if (afterSpace) {
                    word.append(SPACE);
                }
                word.appendCodePoint(cp);
                flush(word, out);
                afterSpace = false;
            } else {
                if (word.length() == 0 && afterSpace) {
                    word.append(SPACE);
                }
                word.appendCodePoint(cp);
                afterSpace = false;
            }
        }
        flush(word, out);
        return out;
    }

    private static void flush(StringBuilder word, List<String> out) {
        if (word.length() > 0) {
            out.add(word.toString());
            word.setLength(0);
        }
    }

    static boolean isPunctOrSymbol(int cp) {
        switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION:
            case Character.DASH_PUNCTUATION:
            case Character.START_PUNCTUATION:
            case Character.END_PUNCTUATION:
            case Character.INITIAL_QUOTE_PUNCTUATION:
            case Character.FINAL_QUOTE_PUNCTUATION:
            case Character.OTHER_PUNCTUATION:
            case Character.MATH_SYMBOL:
            case Character.CURRENCY_SYMBOL:
            case Character.MODIFIER_SYMBOL:
            case Character.OTHER_SYMBOL:
                return true;
            default:
                return false;
        }
    }
}
