package dev.hatspark.torch;

import java.util.List;

/**
 * A pickled object whose class this reader does not know (e.g. a numpy scalar in fairseq's
 * {@code extra_state}), kept as plain data: the global's dotted name, the arguments it would have been
 * called with, and the state BUILD would have set. Nothing is executed or looked up by name.
 */
public final class PythonObject {
    private final String global;
    private final List<Object> args;
    private Object state;

    PythonObject(String global, List<Object> args) {
        this.global = global;
        this.args = args;
    }

    /** e.g. {@code numpy.core.multiarray.scalar} */
    public String global() {
        return global;
    }

    public List<Object> args() {
        return args;
    }

    /** What the pickle's BUILD opcode passed ({@code __setstate__}), or null. */
    public Object state() {
        return state;
    }

    void setState(Object state) {
        this.state = state;
    }

    @Override
    public String toString() {
        return global + args;
    }
}
