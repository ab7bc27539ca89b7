package dev.hatspark.jobs.corpus;

import dev.hatspark.util.BadInputException;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * What prepare-corpus produced: vocab layout and fingerprints, split sizes. Written as
 * corpus/_corpus.json so later jobs check they read the corpus the supernet was trained on, and
 * evaluate finds the raw text ({@code input}) again.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CorpusMeta(boolean jointVocab, String srcVocabFingerprint, String tgtVocabFingerprint,
                         int srcVocabSize, int tgtVocabSize, long train, long valid, long test,
                         double validFraction, double testFraction, CorpusInput input) implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static CorpusMeta read(Fs fs, Layout layout) {
        String path = layout.corpusMeta();
        if (!fs.exists(path)) {
            throw new BadInputException(path + " does not exist: run prepare-corpus for run root " + layout.root() + " first");
        }
        try {
            return JSON.readValue(fs.readText(path), CorpusMeta.class);
        } catch (IOException e) {
            throw new BadInputException(path + ": not a corpus description (" + e.getMessage() + ")");
        }
    }
}
