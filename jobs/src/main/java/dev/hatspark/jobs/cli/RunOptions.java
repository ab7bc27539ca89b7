package dev.hatspark.jobs.cli;

import dev.hatspark.jobs.store.Fs;
import dev.hatspark.jobs.store.Layout;
import picocli.CommandLine.Option;

/** Options every job shares. */
public final class RunOptions {
    @Option(names = "--root", description = "Run root (any Hadoop path: file:, hdfs:, s3a:). Default: ${DEFAULT-VALUE}")
    public String root = "runs/demo";

    public Layout layout() {
        return new Layout(Fs.requireNoCredentials(root));
    }
}
