package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fairseq {@code dict.<lang>.txt}: one "{@code <symbol> <count>}" per line, line k is id k+4, since
 * fairseq puts its four specials first without writing them. Note the special ids differ from
 * {@link Vocab}'s (fairseq: {@code <s>}=0, {@code <pad>}=1; ours: pad=0, bos=1), so ids from a
 * data-bin must be mapped through symbols, never reused as {@link Vocab} ids.
 */
public final class FairseqDictionary {

    public static final int BOS = 0;
    public static final int PAD = 1;
    public static final int EOS = 2;
    public static final int UNK = 3;
    /** fairseq's implicit specials in id order. */
    public static final List<String> SPECIALS = Vocab.SPECIALS; // fairseq's ids are ours
    /** Trailing flag that lets a line repeat an earlier symbol (the later id then wins). */
    static final String OVERWRITE = "#fairseq:overwrite";

    private final String source;
    private final List<String> symbols;
    private final Map<String, Integer> ids;

    private FairseqDictionary(String source, List<String> symbols, Map<String, Integer> ids) {
        this.source = source;
        this.symbols = List.copyOf(symbols);
        this.ids = ids;
    }

    /** Reads UTF-8 dict text; {@code source} (e.g. the file's path) names it in error messages. */
    public static FairseqDictionary read(InputStream in, String source) throws IOException {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lines.add(line);
            }
        }
        return parse(lines, source);
    }

    public static FairseqDictionary parse(List<String> lines, String source) {
        List<String> symbols = new ArrayList<>(SPECIALS);
        Map<String, Integer> ids = new HashMap<>(lines.size() * 2);
        for (int i = 0; i < SPECIALS.size(); i++) {
            ids.put(SPECIALS.get(i), i);
        }
        for (int k = 0; k < lines.size(); k++) {
            // like fairseq: split at the last space, so a symbol may itself contain spaces
            String line = lines.get(k).stripTrailing();
            boolean overwrite = false;
            if (line.endsWith(" " + OVERWRITE)) {
                overwrite = true;
                line = line.substring(0, line.length() - OVERWRITE.length() - 1);
            }
            int space = line.lastIndexOf(' ');
            if (space <= 0 || !isCount(line.substring(space + 1))) {
                throw bad(source, "line " + (k + 1) + " is not \"<symbol> <count>\": \"" + lines.get(k) + "\"");
            }
            String symbol = line.substring(0, space);
            Integer earlier = ids.put(symbol, symbols.size());
            if (earlier != null && !overwrite) {
                throw bad(source, "line " + (k + 1) + " repeats symbol \"" + symbol + "\" (id " + earlier
                        + ") without " + OVERWRITE);
            }
            symbols.add(symbol);
        }
        return new FairseqDictionary(source, symbols, ids);
    }

    private static boolean isCount(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** The one place this class makes its bad-input exception. */
    private static BadInputException bad(String source, String what) {
        return new BadInputException(source + ": " + what);
    }

    public int size() {
        return symbols.size();
    }

    public String source() {
        return source;
    }

    public String symbol(int id) {
        checkId(id);
        return symbols.get(id);
    }

    /** @return the symbol's id, or {@link #UNK} as fairseq gives words missing from the dictionary */
    public int id(String symbol) {
        return ids.getOrDefault(symbol, UNK);
    }

    public boolean contains(String symbol) {
        return ids.containsKey(symbol);
    }

    /** Symbols joined by single spaces, up to the first {@code </s>}; padding left out. */
    public String decode(int[] ids) {
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            if (id == EOS) {
                break;
            }
            if (id == PAD) {
                continue;
            }
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(symbol(id));
        }
        return out.toString();
    }

    /**
     * Fails unless every token id of {@code data} is one of this dictionary's ids: a .bin written with
     * another (larger) dictionary would otherwise decode to wrong words without any error.
     */
    public void checkCovers(FairseqIndexedDataset data) {
        if (data.maxTokenId() >= size()) {
            throw bad(data.binSource(), "token id " + data.maxTokenId() + " is outside " + source
                    + " (ids 0.." + (size() - 1) + ")");
        }
    }

    private void checkId(int id) {
        if (id < 0 || id >= symbols.size()) {
            throw bad(source, "token id " + id + " out of range [0, " + symbols.size() + ")");
        }
    }

    /**
     * Undoes subword-nmt BPE as fairseq's {@code --remove-bpe} does: drops every "@@ " (a marker
     * that glues a piece to the next one), also a trailing "@@".
     */
    public static String removeBpe(String sentence) {
        return (sentence + " ").replace("@@ ", "").stripTrailing();
    }

    @Override
    public String toString() {
        return "FairseqDictionary[" + source + ", size=" + symbols.size() + "]";
    }
}
