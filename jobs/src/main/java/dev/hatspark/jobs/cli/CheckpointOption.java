package dev.hatspark.jobs.cli;

import dev.hatspark.jobs.store.Checkpoints;
import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import picocli.CommandLine.Option;

/** {@code --checkpoint}: the SuperTransformer checkpoint a job reads, by default the run root's newest. */
public final class CheckpointOption {
    @Option(names = "--checkpoint", description = "SuperTransformer checkpoint folder; default: the newest of the run root")
    public String checkpoint;

    /** The checkpoint given, else the newest of the run root, else a one-line error saying what to run first. */
    public String resolve(Fs fs, Layout layout) {
        return Checkpoints.chosen(fs, layout, checkpoint);
    }
}
