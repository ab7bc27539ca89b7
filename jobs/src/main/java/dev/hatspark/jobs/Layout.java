package dev.hatspark.jobs;

/** The run-root layout analysts rely on (README, "Output tables"); every job finds its inputs here. */
public record Layout(String root) {
    public String corpusPairs() { return Fs.join(root, "corpus", "pairs"); }
    public String corpusVocab(String name) { return Fs.join(root, "corpus", "vocab", name + ".bpe"); }
    public String corpusMeta() { return Fs.join(root, "corpus", "_corpus.json"); }
    public String supernet() { return Fs.join(root, "supernet"); }
    public String checkpoints() { return Fs.join(root, "supernet", "checkpoints"); }
    public String supernetMetrics() { return Fs.join(root, "supernet", "metrics"); }
    public String latencyMeasurements() { return Fs.join(root, "latency", "measurements"); }
    public String latencyImport(String hardwareId) { return Fs.join(root, "latency", "imports", hardwareId + ".json"); }
    public String predictor(String hardwareId) { return Fs.join(root, "latency", "predictor", hardwareId); }
    public String sweep(String id) { return Fs.join(root, "sweeps", id); }
    public String evaluations() { return Fs.join(root, "evaluations"); }
    public String report() { return Fs.join(root, "report", "index.html"); }
    /** A SubTransformer trained on its own: {@code init} is "inherited" (fine-tuned) or "scratch". */
    public String subnet(String configHash, String init) { return Fs.join(root, "subnets", configHash, init); }
    public String subnetResults() { return Fs.join(root, "subnets", "results"); }
    public String validationConfigs() { return Fs.join(root, "validation", "configs"); }
    public String validationSummary() { return Fs.join(root, "validation", "summary"); }
}
