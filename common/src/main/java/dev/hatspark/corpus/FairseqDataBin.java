package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a fairseq data-bin folder holds, worked out from its file names alone (no I/O, so callers
 * list the folder with whatever file system they use): the language pair, {@code dict.<lang>.txt}
 * for both sides, and per split the prefixes of its {@code <prefix>.idx/.bin} pairs.
 *
 * <p>A split may be sharded as fairseq does for big corpora: {@code train}, {@code train1},
 * {@code train2}, ... (fairseq concatenates them in that order). fairseq stops quietly at the
 * first missing shard; here a gap is an error, since it would silently drop data.
 */
public final class FairseqDataBin {

    public static final List<String> SPLITS = List.of(Splits.TRAIN, Splits.VALID, Splits.TEST);

    /** {@code <split><shard>.<a>-<b>.<lang>.<bin|idx>}; shard "" or 1, 2, ... as fairseq names them. */
    private static final Pattern DATA_FILE =
            Pattern.compile("(train|valid|test)(|[1-9][0-9]*)\\.([^.-]+)-([^.-]+)\\.([^.-]+)\\.(bin|idx)");

    private final String folder;
    private final String src;
    private final String tgt;
    /** the pair as spelled in file names: "src-tgt", or "tgt-src" when reading a pair the other way */
    private final String pair;
    private final Map<String, Integer> shardCounts;

    private FairseqDataBin(String folder, String src, String tgt, String pair, Map<String, Integer> shardCounts) {
        this.folder = folder;
        this.src = src;
        this.tgt = tgt;
        this.pair = pair;
        this.shardCounts = shardCounts;
    }

    /** The folder's one language pair, in the direction its file names give. */
    public static FairseqDataBin find(Collection<String> fileNames, String folder) {
        Set<String> pairs = pairs(fileNames);
        if (pairs.isEmpty()) {
            throw bad(folder, "no fairseq data-bin files (expected e.g. train.<src>-<tgt>.<src>.bin)");
        }
        if (pairs.size() > 1) {
            throw bad(folder, "several language pairs " + pairs + "; name the source and target language");
        }
        String[] langs = pairs.iterator().next().split("-");
        return find(fileNames, folder, langs[0], langs[1]);
    }

    /**
     * The pair src-&gt;tgt; like fairseq, files named {@code <split>.<tgt>-<src>.*} serve too (the
     * same binarized data read in the other direction).
     */
    public static FairseqDataBin find(Collection<String> fileNames, String folder, String src, String tgt) {
        Set<String> names = new HashSet<>();
        for (String name : fileNames) {
            names.add(name.substring(name.lastIndexOf('/') + 1)); // full paths are fine too
        }
        Set<String> pairs = pairs(names);
        String pair = pairs.contains(src + "-" + tgt) ? src + "-" + tgt : tgt + "-" + src;
        if (!pairs.contains(pair)) {
            throw bad(folder, "no data for " + src + "-" + tgt + " (expected e.g. train." + src + "-" + tgt + "."
                    + src + ".bin; found pairs " + pairs + ")");
        }
        for (String lang : List.of(src, tgt)) {
            requireFile(names, folder, "dict." + lang + ".txt");
        }
        Map<String, Integer> shardCounts = new TreeMap<>();
        for (String split : SPLITS) {
            TreeSet<Integer> shards = new TreeSet<>();
            for (String name : names) {
                Matcher m = DATA_FILE.matcher(name);
                if (m.matches() && m.group(1).equals(split) && pair.equals(m.group(3) + "-" + m.group(4))) {
                    shards.add(m.group(2).isEmpty() ? 0 : Integer.parseInt(m.group(2)));
                }
            }
            if (shards.isEmpty()) {
                continue;
            }
            if (shards.last() != shards.size() - 1) {
                int gap = 0;
                while (shards.contains(gap)) {
                    gap++;
                }
                throw bad(folder, shardName(split, shards.last()) + " present but " + shardName(split, gap)
                        + " missing (shards must be " + split + ", " + split + "1, ... without gaps)");
            }
            for (int k = 0; k < shards.size(); k++) {
                for (String lang : List.of(src, tgt)) {
                    String prefix = shardName(split, k) + "." + pair + "." + lang;
                    requireFile(names, folder, prefix + ".bin");
                    requireFile(names, folder, prefix + ".idx");
                }
            }
            shardCounts.put(split, shards.size());
        }
        return new FairseqDataBin(folder, src, tgt, pair, shardCounts);
    }

    /** Language pairs ("a-b") that data file names mention with one of their own two languages. */
    private static Set<String> pairs(Collection<String> names) {
        Set<String> pairs = new TreeSet<>();
        for (String name : names) {
            Matcher m = DATA_FILE.matcher(name.substring(name.lastIndexOf('/') + 1));
            if (m.matches() && (m.group(5).equals(m.group(3)) || m.group(5).equals(m.group(4)))) {
                pairs.add(m.group(3) + "-" + m.group(4));
            }
        }
        return pairs;
    }

    private static String shardName(String split, int shard) {
        return shard == 0 ? split : split + shard;
    }

    private static void requireFile(Set<String> names, String folder, String name) {
        if (!names.contains(name)) {
            throw bad(folder, "missing " + name);
        }
    }

    /** The one place this class makes its bad-input exception. */
    private static BadInputException bad(String folder, String what) {
        return new BadInputException(folder + ": " + what);
    }

    public String folder() {
        return folder;
    }

    public String sourceLang() {
        return src;
    }

    public String targetLang() {
        return tgt;
    }

    /** @return e.g. {@code dict.en.txt} (a name inside {@link #folder()}) */
    public String dictFile(String lang) {
        checkLang(lang);
        return "dict." + lang + ".txt";
    }

    /** @return the splits present, in the order train, valid, test */
    public List<String> splits() {
        List<String> present = new ArrayList<>();
        for (String split : SPLITS) {
            if (shardCounts.containsKey(split)) {
                present.add(split);
            }
        }
        return present;
    }

    public boolean has(String split) {
        return shardCounts.containsKey(split);
    }

    /**
     * @return the file prefixes (names inside {@link #folder()}, add ".idx"/".bin") of one side of a
     *     split, shard by shard, e.g. [train.en-de.en, train1.en-de.en]
     */
    public List<String> prefixes(String split, String lang) {
        checkLang(lang);
        Integer shards = shardCounts.get(split);
        if (shards == null) {
            throw bad(folder, "no " + split + " split (expected " + split + "." + pair + "." + lang + ".bin/.idx)");
        }
        List<String> prefixes = new ArrayList<>();
        for (int k = 0; k < shards; k++) {
            prefixes.add(shardName(split, k) + "." + pair + "." + lang);
        }
        return prefixes;
    }

    private void checkLang(String lang) {
        if (!lang.equals(src) && !lang.equals(tgt)) {
            throw new BadInputException("language " + lang + " is neither " + src + " nor " + tgt
                    + " of " + folder);
        }
    }

    @Override
    public String toString() {
        return "FairseqDataBin[" + folder + ", " + src + "-" + tgt + ", splits=" + splits() + "]";
    }
}
