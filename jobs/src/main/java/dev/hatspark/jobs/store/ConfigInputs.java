package dev.hatspark.jobs.store;

import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.ConfigSources;
import dev.hatspark.space.DesignSpace;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --config} of the jobs on Hadoop paths: a config JSON, a HAT SubTransformer .yml, a folder of
 * them, or a file of JSON lines (the rule is {@link ConfigSources}'s, shared with hat-measure).
 */
public final class ConfigInputs {
    private ConfigInputs() {
    }

    /** The configs {@code spec} names, in order, checked against {@code space} (null: not checked). */
    public static List<ArchConfig> read(Fs fs, String spec, DesignSpace space) {
        return ConfigSources.configs(spec, store(fs), space);
    }

    /** {@link #read} with each config's source (file, file:line or --config JSON). */
    public static List<ConfigSources.Named> readNamed(Fs fs, String spec, DesignSpace space) {
        return ConfigSources.read(spec, store(fs), space);
    }

    /** The configs of several {@code --config} options, in order. */
    public static List<ArchConfig> readAll(Fs fs, List<String> specs, DesignSpace space) {
        List<ArchConfig> out = new ArrayList<>();
        specs.forEach(s -> out.addAll(read(fs, s, space)));
        return out;
    }

    public static ConfigSources.Store store(Fs fs) {
        return new ConfigSources.Store() {
            @Override
            public boolean exists(String path) {
                return fs.exists(path);
            }

            @Override
            public boolean isDirectory(String path) {
                return fs.isDirectory(path);
            }

            @Override
            public List<String> list(String dir) {
                return fs.list(dir);
            }

            @Override
            public String readText(String path) {
                return fs.readText(path);
            }
        };
    }
}
