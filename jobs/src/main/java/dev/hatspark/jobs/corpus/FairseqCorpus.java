package dev.hatspark.jobs.corpus;

import dev.hatspark.corpus.FairseqDataBin;
import dev.hatspark.corpus.FairseqDictionary;
import dev.hatspark.corpus.FairseqIndexedDataset;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.util.BadInputException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fairseq data-bin folder (HAT's preprocessed data) read as corpus pairs: fairseq's splits and
 * sentence order, fairseq's ids (the dictionary is the vocabulary; {@code </s>} dropped, since
 * {@code Batch} appends it), refs {@code <split>:<index>} zero-padded so they sort in fairseq order.
 */
public final class FairseqCorpus {
    /** Digits of a ref's index: refs sort as fairseq orders its sentences. */
    static final int REF_DIGITS = 9;

    private FairseqCorpus() {
    }

    /** The folder's files and dictionaries; bad input (missing file, bad dictionary) fails here. */
    public record Folder(FairseqDataBin bin, byte[] srcDict, byte[] tgtDict, FairseqDictionary src, FairseqDictionary tgt) {
    }

    public static Folder open(Fs fs, String folder) {
        if (!fs.exists(folder)) {
            throw new BadInputException("--fairseq-data-bin " + folder + " does not exist");
        }
        FairseqDataBin bin;
        try {
            bin = FairseqDataBin.find(fs.list(folder), folder);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        for (String split : FairseqDataBin.SPLITS) {
            if (!bin.has(split)) {
                throw new BadInputException(Fs.join(folder, split + "." + bin.sourceLang() + "-" + bin.targetLang()
                        + "." + bin.sourceLang() + ".bin") + " is missing: a data-bin corpus needs train, valid and test");
            }
        }
        byte[] srcBytes = fs.read(Fs.join(folder, bin.dictFile(bin.sourceLang())));
        byte[] tgtBytes = fs.read(Fs.join(folder, bin.dictFile(bin.targetLang())));
        return new Folder(bin, srcBytes, tgtBytes, dictionary(srcBytes, Fs.join(folder, bin.dictFile(bin.sourceLang()))),
                dictionary(tgtBytes, Fs.join(folder, bin.dictFile(bin.targetLang()))));
    }

    /** Parses dict.txt bytes; {@code source} names the file in the one-line error. */
    public static FairseqDictionary dictionary(byte[] bytes, String source) {
        try {
            return FairseqDictionary.read(new ByteArrayInputStream(bytes), source);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rows (split, ref, src_ids, tgt_ids) of one split, shards concatenated in fairseq's order. */
    public static List<Row> rows(Fs fs, Folder f, String split) {
        String folder = f.bin().folder();
        List<String> srcPrefixes = f.bin().prefixes(split, f.bin().sourceLang());
        List<String> tgtPrefixes = f.bin().prefixes(split, f.bin().targetLang());
        List<Row> rows = new ArrayList<>();
        for (int k = 0; k < srcPrefixes.size(); k++) {
            FairseqIndexedDataset s = dataset(fs, Fs.join(folder, srcPrefixes.get(k)), f.src());
            FairseqIndexedDataset t = dataset(fs, Fs.join(folder, tgtPrefixes.get(k)), f.tgt());
            if (s.size() != t.size()) {
                throw new BadInputException(s.source() + ".idx has " + s.size() + " sentences but " + t.source()
                        + ".idx has " + t.size() + "; the two sides must be aligned");
            }
            for (int i = 0; i < s.size(); i++) {
                String ref = split + ":" + String.format("%0" + REF_DIGITS + "d", rows.size());
                rows.add(RowFactory.create(split, ref, withoutEos(s.get(i)), withoutEos(t.get(i))));
            }
        }
        return rows;
    }

    private static FairseqIndexedDataset dataset(Fs fs, String prefix, FairseqDictionary dict) {
        try {
            FairseqIndexedDataset d = FairseqIndexedDataset.read(fs.read(prefix + ".idx"), fs.read(prefix + ".bin"), prefix);
            dict.checkCovers(d);
            return d;
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /** fairseq ends every sentence with {@code </s>}; our Batch appends EOS itself. */
    static Integer[] withoutEos(int[] ids) {
        int n = ids.length > 0 && ids[ids.length - 1] == FairseqDictionary.EOS ? ids.length - 1 : ids.length;
        return Arrays.stream(ids, 0, n).boxed().toArray(Integer[]::new);
    }

    /** Detokenized as HAT scores: symbols joined by spaces, subword-nmt BPE removed (fairseq --remove-bpe). */
    public static String text(FairseqDictionary dict, int[] ids) {
        return FairseqDictionary.removeBpe(dict.decode(ids));
    }
}
