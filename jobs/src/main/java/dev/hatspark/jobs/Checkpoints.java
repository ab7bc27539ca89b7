package dev.hatspark.jobs;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.model.Adam;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.model.SupernetTrainer.Metrics;
import dev.hatspark.space.DesignSpace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SuperTransformer checkpoints on any Hadoop path: {@code supernet/checkpoints/step-NNNNNNNN/} holding
 * {@code model.ndlist} (DJL-encoded parameters), {@code optimizer.ndlist} and {@code state.json}
 * (design space, vocabulary, metrics so far). A checkpoint directory is written under a temporary
 * name and renamed; its state.json is written last and marks it complete, so the newest checkpoint
 * with a state.json is always a whole one, also on S3 where a directory rename is a copy of one
 * object after another rather than one atomic step.
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STEP = Pattern.compile("step-(\\d{8})");

    /** state.json: everything needed to rebuild the model and check it against the corpus. */
    public record State(long step, long seed, String spaceYaml, int srcVocab, int tgtVocab,
                        String srcVocabFingerprint, String tgtVocabFingerprint, List<Metrics> metrics) {
        /** The design space the checkpoint was trained on; {@code checkpoint} names it in errors. */
        public DesignSpace space(String checkpoint) {
            return DesignSpace.parse(spaceYaml, Fs.join(checkpoint, "state.json") + "#spaceYaml");
        }
    }

    private final Fs fs;
    private final String dir;

    public Checkpoints(Fs fs, String dir) {
        this.fs = fs;
        this.dir = dir;
    }

    public static String name(long step) {
        return String.format("step-%08d", step);
    }

    /** The newest complete checkpoint directory, if any. */
    public Optional<String> latest() {
        String best = null;
        for (String n : fs.list(dir)) {
            Matcher m = STEP.matcher(n);
            if (m.matches() && fs.exists(Fs.join(dir, n, "state.json"))) {
                best = n;
            }
        }
        return Optional.ofNullable(best).map(n -> Fs.join(dir, n));
    }

    /** The newest checkpoint of a run root, or a one-line error saying what to run first. */
    public static String latestOf(Fs fs, Layout layout) {
        return new Checkpoints(fs, layout.checkpoints()).latest().orElseThrow(() -> new IllegalArgumentException(
                "no checkpoint under " + layout.checkpoints() + ": run train-supernet first or pass --checkpoint"));
    }

    public void save(State state, SuperTransformer model, Adam adam, int keep) {
        save(state.step(), state, model, adam, keep);
    }

    /**
     * Saves a checkpoint whose state.json is {@code state} (any Jackson-serializable record holding at
     * least the fields of {@link ModelInfo}), keeping the newest {@code keep}.
     */
    public void save(long step, Object state, SuperTransformer model, Adam adam, int keep) {
        String stateJson;
        try {
            stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String tmp = Fs.join(dir, "._tmp-" + UUID.randomUUID());
        fs.write(Fs.join(tmp, "model.ndlist"), model.parameters().encode());
        fs.write(Fs.join(tmp, "optimizer.ndlist"), adam.state().encode());
        String target = Fs.join(dir, name(step));
        if (fs.exists(target)) {
            fs.delete(target);
        }
        fs.rename(tmp, target);
        // the commit marker, written (atomically, as one file) only once the weights are in place
        fs.writeText(Fs.join(target, "state.json"), stateJson);
        List<String> steps = new ArrayList<>();
        for (String n : fs.list(dir)) {
            if (STEP.matcher(n).matches() && fs.exists(Fs.join(dir, n, "state.json"))) {
                steps.add(n);
            } else if (n.startsWith("._tmp-") || STEP.matcher(n).matches()) {
                fs.delete(Fs.join(dir, n)); // left by a crashed save
            }
        }
        for (int i = 0; i < steps.size() - keep; i++) {
            fs.delete(Fs.join(dir, steps.get(i)));
        }
    }

    public static State readState(Fs fs, String checkpoint) {
        String path = Fs.join(checkpoint, "state.json");
        if (!fs.exists(path)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " is missing (no state.json): train the supernet first");
        }
        try {
            return JSON.readValue(fs.readText(path), State.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": not a checkpoint state (" + e.getMessage() + ")");
        }
    }

    /** A loaded checkpoint: the model plus a fingerprint that names exactly these weights. */
    public record Loaded(State state, DesignSpace space, SuperTransformer model, String checkpointId) {
    }

    public static Loaded load(Fs fs, String checkpoint, NDManager manager) {
        State state = readState(fs, checkpoint);
        DesignSpace space = state.space(checkpoint);
        byte[] weights = fs.read(Fs.join(checkpoint, "model.ndlist"));
        SuperTransformer model = SuperTransformer.load(space, state.srcVocab(), state.tgtVocab(), weights, manager);
        return new Loaded(state, space, model, space.name + "@" + name(state.step()) + ":" + sha(weights));
    }

    /** What any checkpoint's state.json (SuperTransformer or SubTransformer) says about its model. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ModelInfo(long step, String spaceYaml, int srcVocab, int tgtVocab) {
    }

    /** Reads a checkpoint's state.json as {@code type}; a missing or unreadable one is bad input. */
    public static <T> T readState(Fs fs, String checkpoint, Class<T> type) {
        String path = Fs.join(checkpoint, "state.json");
        if (!fs.exists(path)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " is missing (no state.json)");
        }
        try {
            return JSON.readValue(fs.readText(path), type);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": not a checkpoint state (" + e.getMessage() + ")");
        }
    }

    /** The model of any checkpoint, SuperTransformer or trained SubTransformer. */
    public static SuperTransformer loadModel(Fs fs, String checkpoint, NDManager manager) {
        ModelInfo info = readState(fs, checkpoint, ModelInfo.class);
        DesignSpace space = DesignSpace.parse(info.spaceYaml(), Fs.join(checkpoint, "state.json") + "#spaceYaml");
        return SuperTransformer.load(space, info.srcVocab(), info.tgtVocab(), fs.read(Fs.join(checkpoint, "model.ndlist")), manager);
    }

    static String sha(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
