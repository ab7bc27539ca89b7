package dev.hatspark.latency;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Which feature vector a latency predictor was fitted on, saved beside the model so that scoring
 * computes exactly the same vector: {@code hat10} (HAT's 10 aggregated features) or {@code rich}
 * (see {@link Features#rich}), which needs the design space, output vocabulary and protocol. The
 * space is also what a sweep checks its supernet against; a {@code hat10} spec records it when known
 * (null for one fitted before spaces were recorded).
 */
public record FeatureSpec(String kind, String spaceYaml, int vocab, int srcLen, int beam, int steps)
        implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static FeatureSpec hat10() {
        return hat10(null);
    }

    /** HAT's 10 features of measurements taken in the space of {@code spaceYaml} (may be null: unknown). */
    public static FeatureSpec hat10(String spaceYaml) {
        return new FeatureSpec("hat10", spaceYaml, 0, 0, 0, 0);
    }

    public static FeatureSpec rich(DesignSpace s, int vocab, int srcLen, int beam, int steps) {
        return new FeatureSpec("rich", s.yaml(), vocab, srcLen, beam, steps);
    }

    @JsonIgnore
    public boolean isRich() {
        return kind.equals("rich");
    }

    /** The design space of the measurements the predictor was fitted on; null when not recorded. */
    public DesignSpace space() {
        return spaceYaml == null ? null : DesignSpace.parse(spaceYaml, "feature spec");
    }

    public List<String> names() {
        return isRich() ? Features.richNames(space()) : Features.HAT10;
    }

    /** Feature vectors of many configs (parses the space once). */
    public double[][] vectors(List<ArchConfig> configs) {
        DesignSpace s = isRich() ? space() : null;
        LatencyProtocol p = isRich() ? new LatencyProtocol(srcLen, beam, steps, 0, 1, 0) : null;
        double[][] out = new double[configs.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = isRich() ? Features.rich(configs.get(i), s, vocab, p) : Features.hat10(configs.get(i));
        }
        return out;
    }

    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static FeatureSpec fromJson(String json, String source) {
        try {
            FeatureSpec f = JSON.readValue(json, FeatureSpec.class);
            if (!f.kind().equals("rich") && !f.kind().equals("hat10")) {
                throw new BadInputException(source + ": field 'kind' must be rich or hat10, got '" + f.kind() + "'");
            }
            return f;
        } catch (IOException e) {
            throw new BadInputException(source + ": not a feature spec (" + e.getMessage() + ")");
        }
    }
}
