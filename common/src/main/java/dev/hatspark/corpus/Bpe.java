package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A learned byte-pair-encoding model over Unicode code points: an ordered merge list plus the vocab
 * (4 specials, the alphabet, then one token per merge). Immutable and thread-safe; encode caches
 * per-word results in a bounded concurrent map.
 *
 * <p>Text format ({@link #write}/{@link #read}), UTF-8, one item a line:
 * <pre>
 * #hat-bpe v2
 * #vocab N
 * N tokens in id order (the first four are {@link Vocab#SPECIALS})
 * #merges M
 * M lines "left right"
 * </pre>
 * Tokens are escaped ({@code \\ \s \n \r}) so a line never holds a raw space or line break; counts in
 * the section headers make a token like "#merges" unambiguous. v1 files (specials {@code <pad>}=0,
 * {@code <s>}=1, before the switch to fairseq's ids) are refused rather than converted: models trained
 * with them started the decoder from {@code <s>}, so reusing their corpus would mix the conventions.
 */
public final class Bpe {

    private static final Logger log = LoggerFactory.getLogger(Bpe.class);
    private static final String HEADER = "#hat-bpe v2";
    private static final String HEADER_V1 = "#hat-bpe v1";
    private static final int CACHE_LIMIT = 1 << 17;

    private final Vocab vocab;
    private final List<String[]> mergePairs;      // rank order, each {left, right}
    private final Map<Long, int[]> mergeByPair;   // pairKey(leftId, rightId) -> {rank, resultId}
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private volatile String fingerprint;

    private Bpe(Vocab vocab, List<String[]> mergePairs) {
        this.vocab = vocab;
        this.mergePairs = List.copyOf(mergePairs);
        this.mergeByPair = new HashMap<>(mergePairs.size() * 2);
        for (int r = 0; r < mergePairs.size(); r++) {
            String[] m = mergePairs.get(r);
            // putIfAbsent: a repeated pair keeps its first (lowest) rank
            mergeByPair.putIfAbsent(pairKey(vocab.id(m[0]), vocab.id(m[1])), new int[] {r, vocab.id(m[0] + m[1])});
        }
    }

    // ------------------------------------------------------------------ learning

    /**
     * Learns merges from pre-tokenized word counts (as produced by {@link Pretokenizer#words}).
     *
     * @param vocabSize    target vocab size including the 4 specials; reached exactly unless the
     *                     pairs run out (no pair occurs at least twice)
     * @param minCharCount code points rarer than this stay out of the alphabet (encode maps them to
     *                     {@code <unk>}) and never take part in a merge
     * @throws IllegalArgumentException if the specials plus alphabet alone exceed vocabSize
     */
    public static Bpe learn(Map<String, Long> wordCounts, int vocabSize, int minCharCount) {
        if (minCharCount < 1) {
            throw new BadInputException("minCharCount must be >= 1, got " + minCharCount);
        }
        long t0 = System.nanoTime();
        // Sorted input: the learner's result must not depend on the caller's map iteration order.
        TreeMap<String, Long> sorted = new TreeMap<>();
        Map<Integer, Long> charCounts = new HashMap<>();
        wordCounts.forEach((w, c) -> {
            if (c == null || c < 0) {
                throw new IllegalArgumentException("count of word '" + w + "' must be >= 0, got " + c);
            }
            if (c > 0 && !w.isEmpty()) {
                sorted.merge(w, c, Long::sum);
                w.codePoints().forEach(cp -> charCounts.merge(cp, c, Long::sum));
            }
        });

        List<String> tokens = new ArrayList<>(Vocab.SPECIALS);
        Map<String, Integer> ids = new HashMap<>();
        charCounts.entrySet().stream()
                .filter(e -> e.getValue() >= minCharCount)
                .map(Map.Entry::getKey).sorted()
                .forEach(cp -> {
                    ids.put(new String(Character.toChars(cp)), tokens.size());
                    tokens.add(new String(Character.toChars(cp)));
                });
        if (tokens.size() > vocabSize) {
            throw new BadInputException("vocabSize " + vocabSize + " is smaller than the 4 specials + "
                    + (tokens.size() - 4) + " alphabet characters; raise vocabSize or minCharCount");
        }

        // Words as symbol-id arrays; -1 marks a rare character, a barrier no pair crosses.
        int n = sorted.size();
        int[][] words = new int[n][];
        long[] freq = new long[n];
        int wi = 0;
        for (Map.Entry<String, Long> e : sorted.entrySet()) {
            words[wi] = e.getKey().codePoints()
                    .map(cp -> ids.getOrDefault(new String(Character.toChars(cp)), -1)).toArray();
            freq[wi++] = e.getValue();
        }

        Learner l = new Learner(words, freq, tokens);
        List<String[]> merges = new ArrayList<>();
        while (tokens.size() < vocabSize) {
            long[] best = l.pollBest();
            if (best == null) {
                break; // no pair occurs twice any more
            }
            int a = (int) (best[0] >>> 32);
            int b = (int) best[0];
            String merged = tokens.get(a) + tokens.get(b);
            // Different merge paths can spell the same token ("▁t"+"he", "▁th"+"e"): reuse its id.
            Integer id = ids.get(merged);
            if (id == null) {
                id = tokens.size();
                ids.put(merged, id);
                tokens.add(merged);
            }
            merges.add(new String[] {tokens.get(a), tokens.get(b)});
            l.merge(a, b, id);
        }
        Bpe bpe = new Bpe(new Vocab(tokens), merges);
        log.info("BPE learned {} merges (vocab {}) from {} distinct words in {} ms", merges.size(), tokens.size(), n,
                (System.nanoTime() - t0) / 1_000_000);
        return bpe;
    }

    /**
     * Incremental pair statistics: pair -> (weighted count, words containing it), plus a max-heap of
     * (count, pair) with lazy invalidation (an entry is live only while its count is still current).
     */
    private static final class Learner {
        private static final class Stat {
            long count;
            int[] words = new int[4];
            int size;
        }

        private final int[][] words;
        private final long[] freq;
        private final List<String> tokens;
        private final Map<Long, Stat> stats = new HashMap<>();
        private final PriorityQueue<long[]> heap; // {pairKey, count}

        Learner(int[][] words, long[] freq, List<String> tokens) {
            this.words = words;
            this.freq = freq;
            this.tokens = tokens;
            // Highest count first; ties by lexicographically smallest (left, right) token strings.
            Comparator<long[]> byCount = (x, y) -> Long.compare(y[1], x[1]);
            this.heap = new PriorityQueue<>(byCount
                    .thenComparing(x -> tokens.get((int) (x[0] >>> 32)))
                    .thenComparing(x -> tokens.get((int) x[0])));
            Set<Long> changed = new HashSet<>();
            for (int w = 0; w < words.length; w++) {
                update(w, new int[0], words[w], changed);
            }
            push(changed);
        }

        /** @return {pairKey, count} of the best live pair with count >= 2, or null */
        long[] pollBest() {
            for (long[] top; (top = heap.poll()) != null; ) {
                Stat s = stats.get(top[0]);
                if (s != null && s.count == top[1]) {
                    return top;
                }
            }
            return null;
        }

        void merge(int a, int b, int id) {
            Stat s = stats.get(pairKey(a, b));
            int[] ws = s.words; // snapshot: updates below never add words to this pair
            int size = s.size;
            Set<Long> changed = new HashSet<>();
            for (int k = 0; k < size; k++) {
                int w = ws[k];
                int[] after = replace(words[w], a, b, id);
                if (after != words[w]) { // stale entries (word lost the pair earlier) are skipped
                    update(w, words[w], after, changed);
                    words[w] = after;
                }
            }
            push(changed);
        }

        /** Applies the net pair-count change of word w going from symbols before to after. */
        private void update(int w, int[] before, int[] after, Set<Long> changed) {
            long[] x = pairKeys(before);
            long[] y = pairKeys(after);
            int i = 0;
            int j = 0;
            while (i < x.length || j < y.length) {
                long key = j == y.length || (i < x.length && x[i] < y[j]) ? x[i] : y[j];
                int cx = 0;
                int cy = 0;
                while (i < x.length && x[i] == key) {
                    i++;
                    cx++;
                }
                while (j < y.length && y[j] == key) {
                    j++;
                    cy++;
                }
                if (cx == cy) {
                    continue;
                }
                Stat s = stats.computeIfAbsent(key, k -> new Stat());
                s.count += (cy - cx) * freq[w];
                if (cx == 0) { // pair newly present in this word
                    if (s.size == s.words.length) {
                        s.words = Arrays.copyOf(s.words, s.size * 2);
                    }
                    s.words[s.size++] = w;
                }
                if (s.count == 0) {
                    stats.remove(key); // also drops its (now all stale) word list
                }
                changed.add(key);
            }
        }

        private void push(Set<Long> changed) {
            for (long key : changed) {
                Stat s = stats.get(key);
                if (s != null && s.count >= 2) {
                    heap.add(new long[] {key, s.count});
                }
            }
        }

        /** Sorted keys of adjacent pairs, skipping barriers (-1). */
        private static long[] pairKeys(int[] sym) {
            long[] keys = new long[Math.max(0, sym.length - 1)];
            int n = 0;
            for (int i = 0; i + 1 < sym.length; i++) {
                if (sym[i] >= 0 && sym[i + 1] >= 0) {
                    keys[n++] = pairKey(sym[i], sym[i + 1]);
                }
            }
            keys = n == keys.length ? keys : Arrays.copyOf(keys, n);
            Arrays.sort(keys);
            return keys;
        }
    }

    /** Replaces every non-overlapping (a, b), left to right, with id; returns sym itself if none. */
    private static int[] replace(int[] sym, int a, int b, int id) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < sym.length; i++) {
            if (i + 1 < sym.length && sym[i] == a && sym[i + 1] == b) {
                if (out == null) {
                    out = Arrays.copyOf(sym, sym.length);
                    n = i;
                }
                out[n++] = id;
                i++;
            } else if (out != null) {
                out[n++] = sym[i];
            }
        }
        return out == null ? sym : Arrays.copyOf(out, n);
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    // ------------------------------------------------------------------ encode / decode

    /** Pretokenizes and encodes; ids exclude BOS/EOS. Thread-safe. */
    public int[] encode(String text) {
        int[] out = new int[16];
        int n = 0;
        for (String word : Pretokenizer.words(text)) {
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = encodeWord(word);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear(); // crude bound; a Zipfian stream refills the hot words at once
                }
                cache.put(word, ids);
            }
            if (n + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length));
            }
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }
        return Arrays.copyOf(out, n);
    }

    /** Standard BPE on one word: repeatedly apply the lowest-rank merge present. */
    private int[] encodeWord(String word) {
        int[] sym = word.codePoints().map(cp -> vocab.id(new String(Character.toChars(cp)))).toArray();
        while (sym.length > 1) {
            int[] best = null;
            for (int i = 0; i + 1 < sym.length; i++) {
                int[] m = mergeByPair.get(pairKey(sym[i], sym[i + 1]));
                if (m != null && (best == null || m[0] < best[0])) {
                    best = new int[] {m[0], m[1], sym[i], sym[i + 1]}; // rank, result, left, right
                }
            }
            if (best == null) {
                break;
            }
            sym = replace(sym, best[2], best[3], best[1]);
        }
        return sym;
    }

    /** Concatenates tokens (skipping specials), turns '▁' into spaces and trims. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (!Vocab.isSpecial(id)) {
                sb.append(vocab.token(id));
            }
        }
        return sb.toString().replace(Pretokenizer.SPACE, ' ').trim();
    }

    public Vocab vocab() {
        return vocab;
    }

    /** @return merges in rank order, each as "left right" */
    public List<String> merges() {
        List<String> out = new ArrayList<>(mergePairs.size());
        for (String[] m : mergePairs) {
            out.add(m[0] + " " + m[1]);
        }
        return Collections.unmodifiableList(out);
    }

    // ------------------------------------------------------------------ persistence

    /** Writes the model as UTF-8 text; leaves {@code out} open. */
    public void write(OutputStream out) throws IOException {
        Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        w.write(HEADER + "\n#vocab " + vocab.size() + "\n");
        for (String t : vocab.tokens()) {
            w.write(escape(t) + "\n");
        }
        w.write("#merges " + mergePairs.size() + "\n");
        for (String[] m : mergePairs) {
            w.write(escape(m[0]) + " " + escape(m[1]) + "\n");
        }
        w.flush();
    }

    /**
     * Reads a model written by {@link #write}.
     *
     * @throws IllegalArgumentException if the content is malformed; the message names the line
     */
    public static Bpe read(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)));
        Lines lines = new Lines(r);
        String header = lines.next("header '" + HEADER + "'");
        if (HEADER_V1.equals(header)) {
            throw new BadInputException("line 1: '" + HEADER_V1 + "' vocabulary uses the old special ids "
                    + "(<pad>=0, <s>=1); this version uses fairseq's (<s>=0, <pad>=1, decoder starts with </s>): "
                    + "re-run prepare-corpus (and retrain models built on it)");
        }
        lines.expect(HEADER.equals(header), "header '" + HEADER + "'");
        int nVocab = lines.count("#vocab");
        List<String> tokens = new ArrayList<>(nVocab);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < nVocab; i++) {
            String t = lines.unescape(lines.next("vocab token " + i + " of " + nVocab));
            lines.expect(!t.isEmpty(), "a non-empty vocab token");
            if (i < Vocab.SPECIALS.size()) {
                lines.expect(t.equals(Vocab.SPECIALS.get(i)), "special token '" + Vocab.SPECIALS.get(i) + "'");
            }
            Integer prev = seen.putIfAbsent(t, lines.number);
            lines.expect(prev == null, "a new token, not a repeat of line " + prev);
            tokens.add(t);
        }
        int nMerges = lines.count("#merges");
        List<String[]> merges = new ArrayList<>(nMerges);
        for (int i = 0; i < nMerges; i++) {
            String line = lines.next("merge " + i + " of " + nMerges);
            String[] parts = line.split(" ", -1);
            lines.expect(parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty(),
                    "'left right' (two tokens separated by one space)");
            String a = lines.unescape(parts[0]);
            String b = lines.unescape(parts[1]);
            lines.expect(seen.containsKey(a) && seen.containsKey(b) && seen.containsKey(a + b),
                    "a merge whose two tokens and their concatenation are all in the vocab");
            merges.add(new String[] {a, b});
        }
        String extra = lines.nextOrNull();
        lines.expect(extra == null, "end of file after " + nMerges + " merges");
        return new Bpe(new Vocab(tokens), merges);
    }

    /** Line reader that turns every format problem into a one-line, line-numbered message. */
    private static final class Lines {
        private final BufferedReader reader;
        private int number;
        private String current;

        Lines(BufferedReader reader) {
            this.reader = reader;
        }

        String nextOrNull() throws IOException {
            number++;
            try {
                current = reader.readLine();
            } catch (CharacterCodingException e) {
                throw new BadInputException("line " + number + ": expected UTF-8 text, got malformed bytes");
            }
            return current;
        }

        String next(String expected) throws IOException {
            String line = nextOrNull();
            if (line == null) {
                throw new BadInputException("line " + number + ": expected " + expected + ", got end of file");
            }
            return line;
        }

        int count(String tag) throws IOException {
            String line = next("'" + tag + " <count>'");
            try {
                if (line.startsWith(tag + " ")) {
                    int c = Integer.parseInt(line.substring(tag.length() + 1));
                    if (c >= 0) {
                        return c;
                    }
                }
            } catch (NumberFormatException ignored) {
                // fall through to the error below
            }
            throw fail("'" + tag + " <count>'");
        }

        void expect(boolean ok, String expected) {
            if (!ok) {
                throw fail(expected);
            }
        }

        IllegalArgumentException fail(String expected) {
            String got = current.length() > 60 ? current.substring(0, 60) + "..." : current;
            return new BadInputException("line " + number + ": expected " + expected + ", got '" + got + "'");
        }

        String unescape(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = i + 1 < s.length() ? s.charAt(++i) : '?';
                switch (e) {
                    case '\\': sb.append('\\'); break;
                    case 's': sb.append(' '); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    default: throw fail("only the escapes \\\\ \\s \\n \\r");
                }
            }
            return sb.toString();
        }
    }

    private static String escape(String t) {
        StringBuilder sb = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            switch (c) {
                case '\\': sb.append("\\\\"); break;
                case ' ': sb.append("\\s"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                default: sb.append(c);
            }
        }
        return sb.toString();
    }

    /** First 16 hex chars of the SHA-256 of the serialized model; equal models give equal fingerprints. */
    public String fingerprint() {
        String fp = fingerprint;
        if (fp == null) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try {
                write(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // cannot happen writing to memory
            }
            byte[] h = Splits.sha256().digest(bytes.toByteArray());
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                sb.append(String.format("%02x", h[i] & 0xff));
            }
            fingerprint = fp = sb.toString();
        }
        return fp;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Bpe)) {
            return false;
        }
        Bpe other = (Bpe) o;
        if (!vocab.equals(other.vocab) || mergePairs.size() != other.mergePairs.size()) {
            return false;
        }
        for (int i = 0; i < mergePairs.size(); i++) {
            if (!Arrays.equals(mergePairs.get(i), other.mergePairs.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return vocab.hashCode() * 31 + mergePairs.size();
    }

    @Override
    public String toString() {
        return "Bpe[vocab=" + vocab.size() + ", merges=" + mergePairs.size() + ", fingerprint=" + fingerprint() + "]";
    }
}
