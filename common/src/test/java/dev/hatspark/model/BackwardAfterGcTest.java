package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every tensor autograd keeps for the backward pass must stay valid until that pass, whatever the
 * Java garbage collector does in between. DJL's {@code x.mul(number)} breaks this: it wraps the number
 * in a tensor over a Java direct buffer and closes it on return, so a collection between forward and
 * backward frees memory the backward then reads (issue 18: gradients scaled by garbage, some of them
 * non-finite, and runs that part at a random step). A collection must change no gradient bit.
 */
class BackwardAfterGcTest {
    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void aGarbageCollectionBetweenForwardAndBackwardChangesNoGradient(Arrangement arrangement) throws Exception {
        DesignSpace space = DesignSpace.parse(SuperTransformerTest.TINY + "arrangement: " + arrangement.yamlName + "\n", "tiny");
        Map<String, float[]> quiet = gradients(space, false);
        for (int attempt = 0; attempt < 3; attempt++) {
            Map<String, float[]> collected = gradients(space, true);
            assertEquals(quiet.keySet(), collected.keySet());
            for (String name : quiet.keySet()) {
                assertArrayEquals(quiet.get(name), collected.get(name), 0f, name + " after a GC between forward and backward");
            }
        }
    }

    /** Gradients of one training step (dropout on, seeded) of the largest SubTransformer. */
    private static Map<String, float[]> gradients(DesignSpace space, boolean collectGarbage) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager root = NDManager.newBaseManager();
             SuperTransformer m = SuperTransformer.create(space, 30, 30, 4, root)) {
            Engine.getInstance().setRandomSeed(17);
            try (NDScope ignored = new NDScope();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = m.loss(space.largest(), SuperTransformerTest.batch(2, 30), true, 0.1f);
                if (collectGarbage) {
                    // buffers DJL dropped become unreachable; the cleaner thread frees them shortly after
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        Thread.sleep(30);
                    }
                }
                gc.backward(loss);
            }
            m.parameterMap().forEach((name, p) -> out.put(name, p.getGradient().toFloatArray()));
        }
        return out;
    }
}
