package dev.hatspark.jobs.store;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hatspark.model.Adam;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.SupernetTrainer.Metrics;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;
import dev.hatspark.util.Ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * SuperTransformer and SubTransformer checkpoints on any Hadoop path: {@code <dir>/step-NNNNNNNN/}
 * holding {@code model.ndlist} (DJL-encoded parameters), {@code optimizer.ndlist} and {@code state.json}
 * (design space, vocabulary, metrics so far, and the checkpoint id). A checkpoint directory is written
 * under a temporary name and renamed; its state.json is written last and marks it complete, so the
 * newest checkpoint with a state.json is always a whole one, also on S3 where a directory rename is a
 * copy of one object after another rather than one atomic step.
 *
 * <p>The checkpoint id ({@code <space>@step-NNNNNNNN:<sha of the weights>}) names exactly these
 * weights; it is computed once when the checkpoint is saved and read from state.json afterwards (the
 * evaluation cache is keyed by it).
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** state.json of a SuperTransformer: everything needed to rebuild the model and check it against the corpus. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record State(long step, long seed, String spaceYaml, int srcVocab, int tgtVocab,
                        String srcVocabFingerprint, String tgtVocabFingerprint, List<Metrics> metrics) {
        /** The design space the checkpoint was trained on; {@code checkpoint} names it in errors. */
        public DesignSpace space(String checkpoint) {
            return DesignSpace.parse(spaceYaml, Layout.checkpoint(checkpoint).state() + "#spaceYaml");
        }

        /** Token ids mean nothing with another vocabulary: the corpus must be the one the checkpoint was trained on. */
        public void requireVocabulary(String corpusSrcFingerprint, String corpusTgtFingerprint, String checkpoint) {
            if (!java.util.Objects.equals(srcVocabFingerprint, corpusSrcFingerprint)
                    || !java.util.Objects.equals(tgtVocabFingerprint, corpusTgtFingerprint)) {
                throw new BadInputException("checkpoint " + checkpoint + " was trained with another vocabulary than corpus/"
                        + " has now (target vocabulary fingerprint " + tgtVocabFingerprint + " vs corpus " + corpusTgtFingerprint
                        + "): prepare the corpus it was trained on, or train on this one in another --root");
            }
        }
    }

    /** What any checkpoint's state.json (SuperTransformer or trained SubTransformer) says about its model. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ModelInfo(long step, String spaceYaml, int srcVocab, int tgtVocab, String checkpointId) {
    }

    private final Fs fs;
    private final String dir;

    public Checkpoints(Fs fs, String dir) {
        this.fs = fs;
        this.dir = dir;
    }

    /** The newest complete checkpoint directory, if any. */
    public Optional<String> latest() {
        String best = null;
        for (String n : fs.list(dir)) {
            if (Layout.STEP.matcher(n).matches() && fs.exists(Layout.checkpoint(dir, n).state())) {
                best = n;
            }
        }
        return Optional.ofNullable(best).map(n -> Layout.checkpoint(dir, n).dir());
    }

    /** The newest checkpoint of a run root's SuperTransformer, or a one-line error saying what to run first. */
    public static String latestOf(Fs fs, Layout layout) {
        return new Checkpoints(fs, layout.checkpoints()).latest().orElseThrow(() -> new BadInputException(
                "no checkpoint under " + layout.checkpoints() + ": run train-supernet first or pass --checkpoint"));
    }

    /** {@code checkpoint} when given, else the newest of the run root. */
    public static String chosen(Fs fs, Layout layout, String checkpoint) {
        return checkpoint != null ? checkpoint : latestOf(fs, layout);
    }

    /**
     * Saves a checkpoint whose state.json is {@code state} (any Jackson-serializable record holding at
     * least the fields of {@link ModelInfo} but the id, which is added here), keeping the newest
     * {@code keep}; returns the checkpoint's folder.
     */
    public String save(long step, Object state, SuperTransformer model, Adam adam, int keep) {
        byte[] weights = model.parameters().encode();
        ObjectNode node = JSON.valueToTree(state);
        node.put("checkpointId", model.space().name + "@" + Layout.stepName(step) + ":" + Ids.sha(weights));
        String stateJson;
        try {
            stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Layout.Checkpoint tmp = Layout.checkpoint(Fs.temporary(Layout.checkpoint(dir, step).dir()));
        fs.write(tmp.model(), weights);
        fs.write(tmp.optimizer(), adam.state().encode());
        Layout.Checkpoint target = Layout.checkpoint(dir, step);
        if (fs.exists(target.dir())) {
            fs.delete(target.dir());
        }
        fs.rename(tmp.dir(), target.dir());
        // the commit marker, written (atomically, as one file) only once the weights are in place
        fs.writeText(target.state(), stateJson);
        List<String> steps = new ArrayList<>();
        for (String n : fs.list(dir)) {
            if (Layout.STEP.matcher(n).matches() && fs.exists(Layout.checkpoint(dir, n).state())) {
                steps.add(n);
            } else if (Fs.isTemporary(n) || Layout.STEP.matcher(n).matches()) {
                fs.delete(Layout.checkpoint(dir, n).dir()); // left by a crashed save
            }
        }
        for (int i = 0; i < steps.size() - keep; i++) {
            fs.delete(Layout.checkpoint(dir, steps.get(i)).dir());
        }
        return target.dir();
    }

    public static State readState(Fs fs, String checkpoint) {
        return readState(fs, checkpoint, State.class);
    }

    /** Reads a checkpoint's state.json as {@code type}; a missing or unreadable one is bad input. */
    public static <T> T readState(Fs fs, String checkpoint, Class<T> type) {
        String path = Layout.checkpoint(checkpoint).state();
        if (!fs.exists(path)) {
            throw new BadInputException("checkpoint " + checkpoint + " is missing (no state.json): train the supernet first");
        }
        try {
            return JSON.readValue(fs.readText(path), type);
        } catch (IOException e) {
            throw new BadInputException(path + ": not a checkpoint state (" + e.getMessage() + ")");
        }
    }

    /**
     * The id of a checkpoint's weights: stored in its state.json; checkpoints written before the id
     * was stored get it computed from their weights (same format).
     */
    public static String id(Fs fs, String checkpoint) {
        ModelInfo info = readState(fs, checkpoint, ModelInfo.class);
        if (info.checkpointId() != null) {
            return info.checkpointId();
        }
        DesignSpace space = DesignSpace.parse(info.spaceYaml(), Layout.checkpoint(checkpoint).state() + "#spaceYaml");
        return space.name + "@" + Layout.stepName(info.step()) + ":" + Ids.sha(fs.read(Layout.checkpoint(checkpoint).model()));
    }

    /** The model of any checkpoint, SuperTransformer or trained SubTransformer. */
    public static SuperTransformer loadModel(Fs fs, String checkpoint, NDManager manager) {
        ModelInfo info = readState(fs, checkpoint, ModelInfo.class);
        DesignSpace space = DesignSpace.parse(info.spaceYaml(), Layout.checkpoint(checkpoint).state() + "#spaceYaml");
        String weights = Layout.checkpoint(checkpoint).model();
        byte[] bytes = fs.read(weights);
        try {
            return SuperTransformer.load(space, info.srcVocab(), info.tgtVocab(), bytes, manager);
        } catch (BadInputException e) {
            throw e;
        } catch (RuntimeException e) { // DJL's decoding of a cut or damaged NDList: the file, not the code
            throw new BadInputException(weights + ": " + bytes.length + " bytes that do not decode as the weights its"
                    + " state.json describes (" + e.getClass().getSimpleName() + "); the file is truncated or corrupt:"
                    + " delete " + checkpoint + " to resume from an earlier checkpoint", e);
        }
    }

    /** Restores the optimizer state saved with a checkpoint. */
    public static void loadOptimizer(Fs fs, String checkpoint, Adam adam) {
        adam.load(fs.read(Layout.checkpoint(checkpoint).optimizer()));
    }
}
