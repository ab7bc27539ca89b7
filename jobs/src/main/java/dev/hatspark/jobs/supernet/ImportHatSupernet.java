package dev.hatspark.jobs.supernet;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.jobs.cli.Job;
import dev.hatspark.jobs.cli.RunOptions;
import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import dev.hatspark.model.Adam;
import dev.hatspark.model.HatStateDict;
import dev.hatspark.model.SuperTransformer;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.torch.TorchCheckpoint;
import dev.hatspark.torch.TorchTensor;
import dev.hatspark.util.BadInputException;
import dev.hatspark.util.Ids;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * import-hat-supernet: turns a SuperTransformer trained by HAT (fairseq {@code .pt}, legacy or zip
 * torch.save format, streamed from any Hadoop path) into this run root's SuperTransformer checkpoint,
 * so that eval-subnet, sweep, train-subnet... run on HAT's published weights. The design space comes
 * from the checkpoint's args (arrangement {@code hat}); the vocabulary is the fairseq dictionary the
 * model was trained with. Provenance goes to {@code supernet/import.json}.
 */
@Command(name = "import-hat-supernet", mixinStandardHelpOptions = true,
        description = "Import a HAT (fairseq) SuperTransformer checkpoint (.pt) as this run root's SuperTransformer.")
public final class ImportHatSupernet implements Job<ImportHatSupernet.Result> {
    private static final Logger LOG = LoggerFactory.getLogger(ImportHatSupernet.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    public RunOptions run = new RunOptions();

    @Option(names = "--checkpoint", required = true, description = "HAT SuperTransformer checkpoint (.pt) on any Hadoop path")
    public String checkpoint;

    @Option(names = "--dict", required = true, description = "The fairseq dictionary (dict.txt) the checkpoint was trained with"
            + " (the source one when --tgt-dict is given)")
    public String dict;

    @Option(names = "--tgt-dict", description = "Target-side fairseq dictionary, for a checkpoint without shared vocabularies")
    public String tgtDict;

    @Option(names = "--space-name", description = "Name of the imported design space; default: the checkpoint's file stem")
    public String spaceName;

    @Option(names = "--keep-checkpoints", description = "Checkpoints kept in supernet/checkpoints. Default: ${DEFAULT-VALUE}")
    public int keep = 3;

    @Override
    public String name() {
        return "import-hat-supernet";
    }

    /** The summary the CLI prints. */
    public record Result(String checkpoint, String space, long step, int vocab, long parameters) {
    }

    /** supernet/import.json: where the imported weights came from. */
    public record Provenance(String source, String sourceSha, long sourceBytes, String arch, Map<String, Object> args,
                             String dict, String dictFingerprint, String tgtDict, String tgtDictFingerprint,
                             String checkpoint, String importedAt) {
    }

    @Override
    public Result run(SparkSession spark) throws Exception {
        Fs fs = new Fs(spark.sparkContext().hadoopConfiguration());
        Layout layout = run.layout();
        String name = spaceName != null ? spaceName : stem(checkpoint);

        byte[] srcDictBytes = readDict(fs, dict);
        Vocab srcVocab = vocab(srcDictBytes, dict);
        byte[] tgtDictBytes = tgtDict == null ? srcDictBytes : readDict(fs, tgtDict);
        Vocab tgtVocab = tgtDict == null ? srcVocab : vocab(tgtDictBytes, tgtDict);

        long t0 = System.nanoTime();
        Loaded pt = load(fs, checkpoint);
        Map<String, Object> args = args(pt.root, checkpoint);
        DesignSpace space;
        try {
            space = DesignSpace.fromHatArgs(args, name);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(checkpoint + ": args: " + oneLine(e.getMessage()));
        }
        Map<String, HatStateDict.Tensor> tensors = tensors(pt.root, checkpoint);
        boolean shared = Boolean.TRUE.equals(args.get("share_all_embeddings"));
        if (shared && tgtDict != null && !java.util.Arrays.equals(srcDictBytes, tgtDictBytes)) {
            throw new BadInputException(tgtDict + ": the checkpoint shares all embeddings (share_all_embeddings), "
                    + "so source and target dictionaries must be one file: drop --tgt-dict");
        }
        checkRows(tensors, "encoder.embed_tokens.weight", srcVocab.size(), dict, checkpoint);
        if (!shared) {
            if (tgtDict == null) {
                throw new BadInputException(checkpoint + ": args: share_all_embeddings is not set, so source and target "
                        + "vocabularies differ: pass the target dictionary with --tgt-dict");
            }
            checkRows(tensors, "decoder.embed_tokens.weight", tgtVocab.size(), tgtDict, checkpoint);
        }
        long step = step(pt.root);
        String srcFp = Ids.sha(srcDictBytes);
        String tgtFp = Ids.sha(tgtDictBytes);
        String saved;
        long params;
        try (NDManager root = NDManager.newBaseManager()) {
            SuperTransformer model;
            try {
                model = SuperTransformer.fromTensors(space, srcVocab.size(), tgtVocab.size(), tensors, root);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(checkpoint + ": " + oneLine(e.getMessage()));
            }
            tensors = null; // the weights now live in the model only
            params = model.parameterCount();
            Checkpoints.State state = new Checkpoints.State(step, 0, space.yaml(), srcVocab.size(), tgtVocab.size(),
                    srcFp, tgtFp, List.of());
            saved = new Checkpoints(fs, layout.checkpoints()).save(step, state, model, Adam.hat(root), keep);
        }
        Provenance p = new Provenance(checkpoint, pt.sha, pt.bytes, String.valueOf(args.get("arch")), summary(args),
                dict, srcFp, tgtDict, tgtDict == null ? null : tgtFp, saved, Instant.now().toString());
        fs.writeText(layout.supernetImport(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(p));
        LOG.info("imported {} ({} bytes, sha {}) as {} in {} s", checkpoint, pt.bytes, pt.sha, saved,
                String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return new Result(saved, space.name, step, srcVocab.size(), params);
    }

    private record Loaded(Object root, String sha, long bytes) {
    }

    /** Streams the .pt once through TorchCheckpoint, hashing every byte of the file on the way. */
    private static Loaded load(Fs fs, String path) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (!fs.exists(path)) {
            throw new BadInputException(path + ": no such checkpoint");
        }
        try (InputStream raw = fs.fs(path).open(new org.apache.hadoop.fs.Path(path));
             CountingDigest in = new CountingDigest(new java.io.BufferedInputStream(raw, 1 << 20), md)) {
            Object root;
            try {
                root = TorchCheckpoint.read(in, path);
            } catch (IllegalArgumentException e) {
                String m = oneLine(e.getMessage());
                throw new BadInputException(m.startsWith(path) ? m : path + ": " + m);
            } catch (EOFException e) {
                throw new BadInputException(path + ": truncated: the file ends inside the checkpoint");
            }
            in.transferTo(java.io.OutputStream.nullOutputStream()); // the whole file's sha
            return new Loaded(root, HexFormat.of().formatHex(md.digest(), 0, 6), in.count);
        }
    }

    private static final class CountingDigest extends DigestInputStream {
        long count;

        CountingDigest(InputStream in, MessageDigest md) {
            super(in, md);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> args(Object root, String path) {
        Object args = root instanceof Map<?, ?> m ? m.get("args") : null;
        if (!(args instanceof Map<?, ?>)) {
            throw new BadInputException(path + ": not a fairseq checkpoint: no 'args' (argparse Namespace)"
                    + (root instanceof Map<?, ?> m ? ", keys " + m.keySet() : ""));
        }
        return (Map<String, Object>) args;
    }

    private static Map<String, HatStateDict.Tensor> tensors(Object root, String path) {
        Map<String, TorchTensor> model;
        try {
            model = TorchCheckpoint.stateDict(root, "model");
        } catch (IllegalArgumentException e) {
            throw new BadInputException(path + ": " + oneLine(e.getMessage()));
        }
        Map<String, HatStateDict.Tensor> out = new LinkedHashMap<>();
        model.forEach((k, t) -> {
            float[] data;
            try {
                data = t.floats();
            } catch (IllegalStateException e) { // an integer buffer: only its shape matters
                long[] l = t.longs();
                data = new float[l.length];
                for (int i = 0; i < l.length; i++) {
                    data[i] = l[i];
                }
            }
            out.put(k, new HatStateDict.Tensor(t.shape(), data));
        });
        return out;
    }

    private static void checkRows(Map<String, HatStateDict.Tensor> tensors, String key, int dictSize, String dictPath,
                                  String path) {
        HatStateDict.Tensor t = tensors.get(key);
        if (t == null) {
            throw new BadInputException(path + ": model: HAT state dict has no tensor '" + key + "'");
        }
        if (t.shape().length != 2 || t.shape()[0] != dictSize) {
            throw new BadInputException(dictPath + ": " + dictSize + " symbols (4 specials + one per line), but "
                    + path + " has '" + key + "' of shape " + java.util.Arrays.toString(t.shape()) + ": expected "
                    + (t.shape().length > 0 ? t.shape()[0] : "?") + " (the dict.txt of the model's data-bin, as padded"
                    + " by fairseq-preprocess with madeupwordNNNN lines)");
        }
    }

    /** HAT's num_updates of its last optimizer record, else 0. */
    private static long step(Object root) {
        if (root instanceof Map<?, ?> m && m.get("optimizer_history") instanceof List<?> h && !h.isEmpty()
                && h.get(h.size() - 1) instanceof Map<?, ?> last && last.get("num_updates") instanceof Number n) {
            return n.longValue();
        }
        return 0;
    }

    /** The args that define the architecture and its search space. */
    private static Map<String, Object> summary(Map<String, Object> args) {
        Map<String, Object> s = new LinkedHashMap<>();
        args.forEach((k, v) -> {
            if (k.endsWith("_choice") || k.endsWith("_dim") || k.endsWith("_layers") || k.endsWith("_heads")
                    || k.equals("share_all_embeddings") || k.equals("arch") || k.equals("max_update") || k.equals("data")) {
                s.put(k, v instanceof Object[] a ? List.of(a) : v == null || v instanceof Number || v instanceof Boolean
                        || v instanceof List<?> ? v : String.valueOf(v));
            }
        });
        return s;
    }

    private static byte[] readDict(Fs fs, String path) {
        if (!fs.exists(path)) {
            throw new BadInputException(path + ": no such dictionary");
        }
        return fs.read(path);
    }

    private static Vocab vocab(byte[] bytes, String path) {
        try {
            return Vocab.fromFairseqDictionary(new String(bytes, StandardCharsets.UTF_8), path);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(oneLine(e.getMessage()));
        }
    }

    static String stem(String path) {
        String n = path.substring(path.lastIndexOf('/') + 1);
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    private static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*\\R\\s*", " ");
    }
}
