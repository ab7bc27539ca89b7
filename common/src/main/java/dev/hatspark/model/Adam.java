package dev.hatspark.model;

import dev.hatspark.util.BadInputException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (HAT: betas 0.9/0.98) written out so that its moments are part of the checkpoint and a
 * resumed run continues exactly. A parameter without a gradient yet (never in a sampled
 * SubTransformer) is skipped, as PyTorch's Adam skips {@code grad is None}.
 */
public final class Adam implements AutoCloseable {
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Map<String, Long> t = new LinkedHashMap<>();

    public Adam(float beta1, float beta2, float eps, NDManager parent) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.manager = parent.newSubManager();
    }

    public static Adam hat(NDManager parent) {
        return new Adam(0.9f, 0.98f, 1e-8f, parent);
    }

    /**
     * One update of every parameter that has a gradient; gradients are zeroed afterwards. Autograd is
     * off meanwhile: grad mode is per thread and on by default in threads other than the engine's
     * (Spark task threads), where an in-place update of a parameter would be refused.
     */
    public void step(Map<String, NDArray> params, float lr) {
        Grad.disabled(() -> {
            update(params, lr);
            return null;
        });
    }

    /**
     * {@link #step} when every gradient is finite; otherwise no parameter and no moment changes, the
     * gradients are cleared, and false is returned. An overflowing gradient would otherwise turn the
     * moments and then every weight into NaN for good; fairseq's fp16 training, which HAT uses, skips
     * such updates the same way ("gradient overflow detected, ignoring gradient").
     */
    public boolean stepIfFinite(Map<String, NDArray> params, float lr) {
        boolean finite = Double.isFinite(gradNorm(params));
        if (finite) {
            step(params, lr);
        } else {
            clearGradients(params);
        }
        return finite;
    }

    /**
     * The L2 norm of all gradients together (fairseq's grad_norm, what --clip-norm bounds); NaN or
     * infinite when a gradient holds NaN or infinity (or squares beyond float range).
     */
    public double gradNorm(Map<String, NDArray> params) {
        return Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                double sum = 0;
                for (NDArray p : params.values()) {
                    if (Grad.has(p)) {
                        sum += p.getGradient().square().sum().getFloat();
                    }
                }
                return Math.sqrt(sum);
            }
        });
    }

    /** Multiplies every gradient by {@code factor} (gradient clipping). */
    public void scaleGradients(Map<String, NDArray> params, float factor) {
        Grad.disabled(() -> {
            for (NDArray p : params.values()) {
                if (Grad.has(p)) {
                    try (NDArray g = p.getGradient()) {
                        g.muli(factor);
                    }
                }
            }
            return null;
        });
    }

    /** Names of the parameters whose gradient holds NaN or infinity, in parameter order. */
    public List<String> nonFiniteGradients(Map<String, NDArray> params) {
        return Grad.disabled(() -> {
            List<String> out = new ArrayList<>();
            try (NDScope ignored = new NDScope()) {
                for (Map.Entry<String, NDArray> e : params.entrySet()) {
                    if (Grad.has(e.getValue()) && !Torch.allFinite(e.getValue().getGradient())) {
                        out.add(e.getKey());
                    }
                }
            }
            return out;
        });
    }

    /** Sets every gradient to zero (also one holding NaN or infinity, which subtracting itself would not clear). */
    public void clearGradients(Map<String, NDArray> params) {
        Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                for (NDArray p : params.values()) {
                    if (Grad.has(p)) {
                        p.getGradient().set(new ai.djl.ndarray.index.NDIndex(":"), 0f);
                    }
                }
            }
            return null;
        });
    }

    private void update(Map<String, NDArray> params, float lr) {
        try (NDScope ignored = new NDScope()) {
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                NDArray p = e.getValue();
                if (!Grad.has(p)) {
                    continue;
                }
                NDArray g = p.getGradient();
                String name = e.getKey();
                NDArray mt = m.computeIfAbsent(name, k -> keep(p.zerosLike()));
                NDArray vt = v.computeIfAbsent(name, k -> keep(p.zerosLike()));
                long step = t.merge(name, 1L, Long::sum);
                mt.muli(beta1).addi(g.mul(1 - beta1));
                vt.muli(beta2).addi(g.square().mul(1 - beta2));
                double bias1 = 1 - Math.pow(beta1, step);
                double bias2 = 1 - Math.pow(beta2, step);
                float stepSize = (float) (lr * Math.sqrt(bias2) / bias1);
                p.subi(mt.div(vt.sqrt().add(eps)).mul(stepSize));
                g.subi(g);
            }
        }
    }

    private NDArray keep(NDArray a) {
        NDScope.unregister(a);
        a.attach(manager);
        return a;
    }

    /** Moments and step counts, named {@code m.<param>}, {@code v.<param>}, {@code t.<param>}. */
    public NDList state() {
        NDList list = new NDList();
        for (String name : m.keySet()) {
            m.get(name).setName("m." + name);
            v.get(name).setName("v." + name);
            NDArray steps = manager.create(new long[] {t.get(name)});
            steps.setName("t." + name);
            list.add(m.get(name));
            list.add(v.get(name));
            list.add(steps);
        }
        return list;
    }

    public void load(byte[] encoded) {
        NDList list = NDList.decode(manager, encoded);
        for (NDArray a : list) {
            String name = a.getName();
            String param = name.substring(2);
            switch (name.substring(0, 2)) {
                case "m." -> m.put(param, a);
                case "v." -> v.put(param, a);
                case "t." -> t.put(param, a.toLongArray()[0]);
                default -> throw new BadInputException("optimizer state has unknown tensor '" + name + "'");
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
