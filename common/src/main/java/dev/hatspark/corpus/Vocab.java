package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Immutable id &lt;-&gt; token map; ids 0..3 are always the special tokens, numbered as in fairseq
 * (and so HAT): {@code <s>}=0, {@code <pad>}=1, {@code </s>}=2, {@code <unk>}=3. Sharing fairseq's ids
 * lets HAT checkpoints (whose embedding rows follow them) and fairseq dictionaries be used as they are.
 * As in fairseq translation, {@code <s>} is never fed to the model: the decoder starts from
 * {@link #DECODER_START} = {@code </s>}.
 */
public final class Vocab {

    public static final int BOS = 0;
    public static final int PAD = 1;
    public static final int EOS = 2;
    public static final int UNK = 3;
    /** The decoder's first input token (fairseq: prev_output_tokens = [</s>] + target[:-1]). */
    public static final int DECODER_START = EOS;
    /** The special tokens in id order. */
    public static final List<String> SPECIALS = List.of("<s>", "<pad>", "</s>", "<unk>");

    private final List<String> tokens;
    private final Map<String, Integer> ids;

    /** @param tokens all tokens in id order, starting with {@link #SPECIALS}; no duplicates */
    public Vocab(List<String> tokens) {
        if (tokens.size() < SPECIALS.size() || !tokens.subList(0, SPECIALS.size()).equals(SPECIALS)) {
            throw new BadInputException("vocab must start with " + SPECIALS);
        }
        this.tokens = List.copyOf(tokens);
        this.ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            if (ids.putIfAbsent(tokens.get(i), i) != null) {
                throw new BadInputException("duplicate vocab token '" + tokens.get(i) + "' at id " + i);
            }
        }
    }

    /**
     * Reads a fairseq dictionary ({@code dict.txt}: one {@code "<symbol> <count>"} line per token, ids
     * 0..3 implicit, line k gets id k + 4). A trailing {@code #fairseq:overwrite} flag is ignored;
     * {@code source} names the file in the one-line error.
     */
    public static Vocab fromFairseqDictionary(String text, String source) {
        FairseqDictionary d = FairseqDictionary.parse(text.lines().toList(), source);
        List<String> tokens = new java.util.ArrayList<>();
        for (int id = 0; id < d.size(); id++) {
            tokens.add(d.symbol(id));
        }
        try {
            return new Vocab(tokens);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(source + ": " + e.getMessage());
        }
    }

    public int size() {
        return tokens.size();
    }

    /** @return the id of {@code token}, or {@link #UNK} if it is not in the vocab */
    public int id(String token) {
        return ids.getOrDefault(token, UNK);
    }

    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    public String token(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + tokens.size() + ")");
        }
        return tokens.get(id);
    }

    public static boolean isSpecial(int id) {
        return id >= 0 && id < SPECIALS.size();
    }

    /** @return all tokens in id order (unmodifiable) */
    public List<String> tokens() {
        return tokens;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocab && ((Vocab) o).tokens.equals(tokens);
    }

    @Override
    public int hashCode() {
        return tokens.hashCode();
    }

    @Override
    public String toString() {
        return "Vocab[size=" + tokens.size() + "]";
    }
}
