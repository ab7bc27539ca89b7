package dev.hatspark.space;

import dev.hatspark.util.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a {@code --config} option may name, the same rule in every job and in hat-measure: a config
 * JSON itself (text starting with '{'), a HAT SubTransformer {@code .yml} (or {@code .yaml}), a
 * folder of them (read in name order; files holding no SubTransformer key, such as HAT's
 * {@code common.yml} of training settings, are passed over), or any other file as one config JSON
 * per line (blank lines and # comments skipped). Files are read through a {@link Store}, so local
 * and Hadoop paths take the same rule.
 */
public final class ConfigSources {
    private ConfigSources() {
    }

    /** Read access to files: local ({@link #local()}) or a Hadoop file system (the jobs'). */
    public interface Store {
        boolean exists(String path);

        boolean isDirectory(String path);

        /** Names of the entries of a folder, in any order. */
        List<String> list(String dir);

        String readText(String path);
    }

    /** A config and where it came from ({@code file.yml}, {@code file:line}, or {@code --config JSON}). */
    public record Named(String source, ArchConfig config) {
    }

    /**
     * The configs {@code spec} names, in order, each checked against {@code space} (unless null); bad
     * input ends in one line naming the file (and line) and the key.
     */
    public static List<Named> read(String spec, Store store, DesignSpace space) {
        String s = spec.trim();
        if (s.startsWith("{")) {
            ArchConfig c = ArchConfig.fromJson(s);
            return List.of(new Named("--config JSON", space == null ? c : c.validate(space)));
        }
        if (!store.exists(s)) {
            throw new BadInputException("--config: " + s + " is neither a config JSON nor an existing file or folder");
        }
        if (!store.isDirectory(s)) {
            return isYaml(s) ? List.of(yaml(s, store, space)) : jsonLines(s, store, space);
        }
        List<String> names = store.list(s).stream().filter(n -> isYaml(n) && !hidden(n)).sorted().toList();
        List<Named> out = new ArrayList<>();
        for (String n : names) {
            String file = s.endsWith("/") ? s + n : s + "/" + n;
            if (ArchConfig.hasHatSubTransformerKeys(store.readText(file), file)) {
                out.add(yaml(file, store, space));
            }
        }
        if (out.isEmpty()) {
            throw new BadInputException("--config: folder " + s + " holds no HAT SubTransformer .yml file (of "
                    + names.size() + " .yml files)");
        }
        return out;
    }

    /** Only the configs of {@link #read}. */
    public static List<ArchConfig> configs(String spec, Store store, DesignSpace space) {
        return read(spec, store, space).stream().map(Named::config).toList();
    }

    private static Named yaml(String file, Store store, DesignSpace space) {
        ArchConfig c = ArchConfig.fromHatYaml(store.readText(file), file);
        return new Named(file, space == null ? c : c.validateAsHat(space, file));
    }

    private static List<Named> jsonLines(String file, Store store, DesignSpace space) {
        List<Named> out = new ArrayList<>();
        String[] lines = store.readText(file).split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].trim();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String where = file + ":" + (i + 1);
            try {
                ArchConfig c = ArchConfig.fromJson(l);
                out.add(new Named(where, space == null ? c : c.validate(space)));
            } catch (BadInputException e) {
                throw new BadInputException(where + ": " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new BadInputException(file + ": no configs (one config JSON per line, or a HAT .yml)");
        }
        return out;
    }

    private static boolean isYaml(String name) {
        return name.endsWith(".yml") || name.endsWith(".yaml");
    }

    /** Hidden and temporary entries (".x", "_x", a write in progress "x._tmp-...") are not inputs. */
    private static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_") || name.contains("._");
    }

    /** Local files (hat-measure on a device). */
    public static Store local() {
        return new Store() {
            @Override
            public boolean exists(String path) {
                return Files.exists(Path.of(path));
            }

            @Override
            public boolean isDirectory(String path) {
                return Files.isDirectory(Path.of(path));
            }

            @Override
            public List<String> list(String dir) {
                try (Stream<Path> s = Files.list(Path.of(dir))) {
                    return s.map(p -> p.getFileName().toString()).toList();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + dir, e);
                }
            }

            @Override
            public String readText(String path) {
                try {
                    return Files.readString(Path.of(path), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + path, e);
                }
            }
        };
    }
}
