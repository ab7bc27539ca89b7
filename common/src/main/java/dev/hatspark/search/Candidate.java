package dev.hatspark.search;

import dev.hatspark.space.ArchConfig;

import java.io.Serializable;
import java.util.List;

/** A member of a generation: its config, how it was made, and its predicted latency. */
public record Candidate(ArchConfig config, String origin, List<String> parentHashes, double predictedMs)
        implements Serializable {
    public static final String RANDOM = "random";
    public static final String MUTATION = "mutation";
    public static final String CROSSOVER = "crossover";
    public static final String PARENT = "parent";

    public String hash() {
        return config.hash();
    }
}
