package dev.hatspark.jobs.store;

import dev.hatspark.space.DesignSpace;
import dev.hatspark.util.BadInputException;

import java.util.Optional;

/** Design spaces as the jobs find them: given with --space, the run root's supernet's, or built in by name. */
public final class Spaces {
    private Spaces() {
    }

    /** {@code --space} (a built-in name or a YAML file on any Hadoop path, {@link DesignSpace#resolve}). */
    public static DesignSpace given(Fs fs, String spec) {
        return DesignSpace.resolve(spec, fs::exists, fs::readText);
    }

    /** The design space of the run root's newest SuperTransformer checkpoint, if there is one. */
    public static Optional<DesignSpace> supernet(Fs fs, Layout layout) {
        return new Checkpoints(fs, layout.checkpoints()).latest().map(c -> Checkpoints.readState(fs, c).space(c));
    }

    /** {@code --space} when given, else the supernet's, else {@code fallback} (a built-in name). */
    public static DesignSpace givenOrSupernet(Fs fs, Layout layout, String spec, String fallback) {
        if (spec != null) {
            return given(fs, spec);
        }
        return supernet(fs, layout).orElseGet(() -> DesignSpace.builtin(fallback));
    }

    /** The space a measurement names: the supernet's when the names match, else the built-in of that name. */
    public static DesignSpace named(Fs fs, Layout layout, String name) {
        Optional<DesignSpace> s = supernet(fs, layout).filter(d -> d.name.equals(name));
        return s.isPresent() ? s.get() : DesignSpace.builtin(name);
    }

    /** {@link #named}, or null when the name is neither the supernet's nor built in. */
    public static DesignSpace namedOrNull(Fs fs, Layout layout, String name) {
        try {
            return named(fs, layout, name);
        } catch (BadInputException e) {
            return null;
        }
    }
}
