package dev.hatspark.jobs.store;

import dev.hatspark.jobs.search.Sweep;
/**
 * The run-root layout analysts rely on (README, "Output tables"): the one place that names a path of
 * a run root. Jobs ask it for their inputs and outputs; folders with several files of their own
 * (a sweep, a predictor, a trained SubTransformer, a checkpoint) have a typed sub-layout, so no job
 * joins run-root path parts itself. The tables' columns are in {@link Tables}.
 */
public record Layout(String root) {
    /** {@code path} relative to the root when it lies under it (so a copied or moved root still names it), else as it is. */
    public String relative(String path) {
        String prefix = root.endsWith("/") ? root : root + "/";
        return path.startsWith(prefix) ? path.substring(prefix.length()) : path;
    }

    public String corpusPairs() { return Fs.join(root, "corpus", "pairs"); }
    public String corpusVocab(String name) { return Fs.join(root, "corpus", "vocab", name + ".bpe"); }
    public String corpusFairseqDict(String lang) { return Fs.join(root, "corpus", "vocab", "dict." + lang + ".txt"); }
    public String corpusMeta() { return Fs.join(root, "corpus", "_corpus.json"); }
    public String supernet() { return Fs.join(root, "supernet"); }
    public String checkpoints() { return Fs.join(root, "supernet", "checkpoints"); }
    public String supernetMetrics() { return Fs.join(root, "supernet", "metrics"); }
    /** Provenance of a SuperTransformer imported from a HAT checkpoint (import-hat-supernet). */
    public String supernetImport() { return Fs.join(root, "supernet", "import.json"); }
    public String latencyMeasurements() { return Fs.join(root, "latency", "measurements"); }
    /** The noise of every measuring run, one row per committed chunk ({@link Tables#LATENCY_RUNS}). */
    public String latencyRuns() { return Fs.join(root, "latency", "runs"); }
    public String latencyImport(String hardwareId) { return Fs.join(root, "latency", "imports", hardwareId + ".json"); }
    /** The folder holding one predictor folder per hardware id. */
    public String predictors() { return Fs.join(root, "latency", "predictor"); }
    public Predictor predictor(String hardwareId) { return new Predictor(Fs.join(predictors(), hardwareId)); }
    /** The folder holding one folder per sweep id. */
    public String sweeps() { return Fs.join(root, "sweeps"); }
    public Sweep sweep(String id) { return new Sweep(Fs.join(sweeps(), id)); }
    public String evaluations() { return Fs.join(root, "evaluations"); }
    /** The folders a sweep only reads (corpus, latency, supernet): what bench-cost's scratch run roots link to. */
    public java.util.List<String> sweepInputs() { return java.util.List.of(Fs.join(root, "corpus"), Fs.join(root, "latency"), supernet()); }
    public String report() { return Fs.join(root, "report", "index.html"); }
    public String subnets() { return Fs.join(root, "subnets"); }
    /** A SubTransformer trained on its own: {@code init} is "inherited" (fine-tuned) or "scratch". */
    public Subnet subnet(String configHash, String init) { return new Subnet(Fs.join(subnets(), configHash, init)); }
    public String subnetResults() { return Fs.join(subnets(), "results"); }
    public String validationConfigs() { return Fs.join(root, "validation", "configs"); }
    public String validationSummary() { return Fs.join(root, "validation", "summary"); }

    /** {@code latency/predictor/<hw>/}: the MLlib pipeline, its features, metrics and per-config predictions. */
    public record Predictor(String dir) {
        public String model() { return Fs.join(dir, "model"); }
        public String features() { return Fs.join(dir, "features.json"); }
        public String metrics() { return Fs.join(dir, "metrics"); }
        public String predictions() { return Fs.join(dir, "predictions"); }
        /** Provenance of a predictor imported from HAT's files (import-hat-predictor): source, sha256, norms. */
        public String importRecord() { return Fs.join(dir, "import.json"); }
        /** The same folder under another name: where a new version is written before it is swapped in. */
        public Predictor at(String otherDir) { return new Predictor(otherDir); }
    }

    /** {@code sweeps/<id>/}: every generation's population, each budget's best, the run record, the Pareto front. */
    public record Sweep(String dir) {
        public String population() { return Fs.join(dir, "population"); }
        public String best() { return Fs.join(dir, "best"); }
        public String runs() { return Fs.join(dir, "runs"); }
        /** Each budget's winner as a HAT SubTransformer yml (for HAT's train.py). */
        public String hat() { return Fs.join(dir, "hat"); }
        public String front() { return Fs.join(dir, "front"); }
    }

    /** {@code subnets/<config_hash>/<init>/}: checkpoints, training curve, test translations. */
    public record Subnet(String dir) {
        public String checkpoints() { return Fs.join(dir, "checkpoints"); }
        public String metrics() { return Fs.join(dir, "metrics"); }
        public String translations() { return Fs.join(dir, "translations"); }
    }

    /** One checkpoint folder ({@code step-NNNNNNNN/}) of a SuperTransformer or a SubTransformer. */
    public record Checkpoint(String dir) {
        public String model() { return Fs.join(dir, "model.ndlist"); }
        public String optimizer() { return Fs.join(dir, "optimizer.ndlist"); }
        /** Written last: its presence marks the checkpoint complete. */
        public String state() { return Fs.join(dir, "state.json"); }
    }

    public static Checkpoint checkpoint(String dir) {
        return new Checkpoint(dir);
    }

    /** Checkpoint folders are named by step, zero-padded so that names sort like steps. */
    public static final java.util.regex.Pattern STEP = java.util.regex.Pattern.compile("step-(\\d{8})");

    public static String stepName(long step) {
        return String.format("step-%08d", step);
    }

    /** The checkpoint of {@code step} in a folder of checkpoints (supernet's or a SubTransformer's). */
    public static Checkpoint checkpoint(String checkpointsDir, long step) {
        return new Checkpoint(Fs.join(checkpointsDir, stepName(step)));
    }

    /** Checkpoint folder {@code name} (as listed) of a folder of checkpoints. */
    public static Checkpoint checkpoint(String checkpointsDir, String name) {
        return new Checkpoint(Fs.join(checkpointsDir, name));
    }
}
