package dev.hatspark.torch;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Pyrolite's unpickler with the torch parts added: storage persistent ids, the tensor rebuild
 * functions, OrderedDict and argparse.Namespace. Globals are resolved per instance rather than through
 * Pyrolite's static registry, which is process-wide (shared with Spark's own constructors) and would
 * turn any unknown class into a generic ClassDict behind our back: here only the names below are
 * understood, anything else becomes an inert {@link PythonObject}, and no code is ever looked up.
 */
final class TorchUnpickler extends Unpickler {
    /** Where tensors' storages come from: a lookup that creates the (still empty) storage on first use. */
    interface Storages {
        TorchStorage get(String key, Dtype dtype, long numel);
    }

    /** A storage, or (legacy view_metadata) a slice of one, as a persistent id resolves to. */
    private record StorageRef(TorchStorage storage, long offset) {
    }

    /** A global that is data, not a call: a storage class or dtype ({@code dtype} set), or an unknown name. */
    private record Global(String name, Dtype dtype) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            return new PythonObject(name, new ArrayList<>(Arrays.asList(args)));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final String source;
    private final Storages storages;
    /** Namespaces take their attributes from BUILD; identity, since two may be equal maps. */
    private final Set<Object> namespaces = Collections.newSetFromMap(new IdentityHashMap<>());

    private TorchUnpickler(String source, Storages storages) {
        this.source = source;
        this.storages = storages;
    }

    /**
     * Unpickles one pickle from {@code in}, reading no byte past its STOP opcode. {@code ended} tells
     * whether {@code in} ran out, which turns Pyrolite's IOException into a truncation report;
     * {@code what} names the pickle in messages. {@code storages} may be null where no tensor may occur.
     */
    static Object load(InputStream in, BooleanSupplier ended, String source, Storages storages, String what)
            throws IOException {
        try {
            return new TorchUnpickler(source, storages).load(in);
        } catch (IOException e) {
            if (ended.getAsBoolean()) {
                throw TorchCheckpoint.badInput(source, "truncated: the input ended inside the " + what);
            }
            throw e;
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException && String.valueOf(e.getMessage()).startsWith(source + ": ")) {
                throw e; // ours, already naming the source
            }
            // Pyrolite's PickleException, a NumberFormatException, a failed cast of a malformed operand...
            throw TorchCheckpoint.badInput(source, "malformed " + what + ": " + e);
        }
    }

    @Override
    protected Object dispatch(short key) throws IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(input);
                stack.add(global(module, PickleUtils.readline(input)));
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                stack.add(global(String.valueOf(stack.pop()), String.valueOf(name)));
            }
            // Pyrolite 1.3 passes persistentLoad only pid.toString(); torch's ids are tuples
            case Opcodes.BINPERSID -> stack.add(storageFor(stack.pop()));
            case Opcodes.BUILD -> build(stack.pop(), stack.peek());
            // Python dicts keep insertion order; Pyrolite would make a HashMap
            case Opcodes.EMPTY_DICT -> stack.add(new LinkedHashMap<>());
            case Opcodes.DICT -> { // protocols 0 and 1: MARK key value ... DICT
                Map<Object, Object> dict = new LinkedHashMap<>();
                putPairs(stack.pop_all_since_marker(), dict);
                stack.add(dict);
            }
            // Pyrolite's SETITEMS goes through a HashMap too, losing OrderedDict's order
            case Opcodes.SETITEMS -> {
                List<Object> pairs = stack.pop_all_since_marker();
                @SuppressWarnings("unchecked")
                Map<Object, Object> target = (Map<Object, Object>) stack.peek();
                putPairs(pairs, target);
            }
            // protocol 0 instantiation: looks classes up in Pyrolite's static registry, never written by torch
            case Opcodes.INST -> throw TorchCheckpoint.badInput(source, "unsupported pickle opcode INST");
            default -> {
                return super.dispatch(key);
            }
        }
        return NO_RETURN_VALUE;
    }

    private static void putPairs(List<Object> keysAndValues, Map<Object, Object> target) {
        for (int i = 0; i + 1 < keysAndValues.size(); i += 2) {
            target.put(keysAndValues.get(i), keysAndValues.get(i + 1));
        }
    }

    private Object global(String module, String name) {
        String dotted = module + "." + name;
        switch (dotted) {
            case "collections.OrderedDict" -> {
                return (IObjectConstructor) TorchUnpickler::orderedDict;
            }
            case "argparse.Namespace" -> {
                return (IObjectConstructor) args -> {
                    Map<String, Object> attributes = new LinkedHashMap<>();
                    namespaces.add(attributes);
                    return attributes;
                };
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                return (IObjectConstructor) this::rebuildTensor;
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                return (IObjectConstructor) args -> tensor(args[0]); // nn.Parameter(data, ...): the data is all we keep
            }
            default -> {
                return new Global(dotted, Dtype.ofGlobal(module, name));
            }
        }
    }

    /** OrderedDict() then SETITEMS is what pickle writes; OrderedDict([(k, v), ...]) is accepted too. */
    private static Object orderedDict(Object[] args) {
        Map<Object, Object> map = new LinkedHashMap<>();
        if (args.length > 0 && args[0] instanceof List<?> pairs) {
            for (Object pair : pairs) {
                Object[] kv = pair instanceof Object[] a ? a : ((List<?>) pair).toArray();
                map.put(kv[0], kv[1]);
            }
        }
        return map;
    }

    /** BUILD: set an object's state ({@code obj.__setstate__(state)} or its {@code __dict__}). */
    private void build(Object state, Object target) {
        if (namespaces.contains(target)) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> attributes = (Map<Object, Object>) target;
            attributes.putAll((Map<?, ?>) state);
        } else if (target instanceof PythonObject object) {
            object.setState(state);
        } else if (!(target instanceof Map)) {
            throw TorchCheckpoint.badInput(source, "pickle BUILD on an unsupported object: " + target);
        }
        // a dict's state is attributes such as a state_dict's _metadata (module versions): not data, dropped
    }

    @Override
    protected Object persistentLoad(String pid) {
        throw TorchCheckpoint.badInput(source, "unsupported text persistent id '" + pid + "' (protocol 0)");
    }

    /** {@code ('storage', storage class, key, location, numel[, view_metadata])}; the location is ignored. */
    private Object storageFor(Object pid) {
        if (!(pid instanceof Object[] id) || id.length < 5 || !"storage".equals(id[0])) {
            throw TorchCheckpoint.badInput(source, "unsupported persistent id " + describe(pid)
                    + " (expected ('storage', storage type, key, location, numel, ...))");
        }
        if (!(id[1] instanceof Global type) || type.dtype() == null) {
            throw TorchCheckpoint.badInput(source, "unsupported storage type " + id[1]
                    + " (expected torch.FloatStorage, HalfStorage, BFloat16Storage or LongStorage)");
        }
        if (storages == null) {
            throw TorchCheckpoint.badInput(source, "a tensor outside the checkpoint's main pickle");
        }
        TorchStorage storage = storages.get(String.valueOf(id[2]), type.dtype(), ((Number) id[4]).longValue());
        // legacy view_metadata (view_key, offset, view_size): a slice of the root storage, offset in elements
        long offset = id.length > 5 && id[5] instanceof Object[] view ? ((Number) view[1]).longValue() : 0;
        return new StorageRef(storage, offset);
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata])}. */
    private Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRef ref)) {
            throw TorchCheckpoint.badInput(source, "_rebuild_tensor called with " + describe(args));
        }
        long offset = ref.offset() + ((Number) args[1]).longValue();
        return TorchTensor.view(ref.storage(), offset, longs(args[2]), longs(args[3]), source);
    }

    private TorchTensor tensor(Object o) {
        if (o instanceof TorchTensor t) {
            return t;
        }
        throw TorchCheckpoint.badInput(source, "_rebuild_parameter of a non-tensor: " + describe(o));
    }

    private static long[] longs(Object tuple) {
        Object[] items = tuple instanceof Object[] a ? a : ((List<?>) tuple).toArray();
        long[] out = new long[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = ((Number) items[i]).longValue();
        }
        return out;
    }

    private static String describe(Object o) {
        return o instanceof Object[] a ? Arrays.deepToString(a) : String.valueOf(o);
    }
}
