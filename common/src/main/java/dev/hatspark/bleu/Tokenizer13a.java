package dev.hatspark.bleu;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * sacreBLEU's default tokenizer "13a" (the rules of WMT's mteval-v13a.pl): entity unescaping, then
 * ASCII punctuation and symbols split off, periods and commas split off unless between digits, a
 * dash split off after a digit. Whitespace is Python's {@code str.split()} whitespace, so that
 * tokens match sacreBLEU's exactly (no-break spaces separate tokens too).
 */
public final class Tokenizer13a {
    // the symbol class {-~ [-` space-& (-+ :-@ / as in mteval-v13a's language-dependent part
    private static final Pattern SYMBOLS = Pattern.compile("([{-~\\[-` -&(-+:-@/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Tokenizer13a() {
    }

    /** The tokens of one segment (sacreBLEU also strips trailing whitespace first). */
    public static List<String> tokens(String segment) {
        String line = rstrip(segment).replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = SYMBOLS.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return split(line);
    }

    /** The tokenized segment as sacreBLEU prints it: tokens joined by single spaces. */
    public static String tokenize(String segment) {
        return String.join(" ", tokens(segment));
    }

    /** Python's {@code str.split()}: runs of Unicode whitespace separate, none at either end. */
    static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); i++) {
            if (isSpace(s.charAt(i))) {
                if (start >= 0) {
                    out.add(s.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) {
            out.add(s.substring(start));
        }
        return out;
    }

    private static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** Python's {@code str.isspace()} for one char: Java's whitespace, Unicode space separators and NEL. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
