package dev.hatspark.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.DesignSpace;
import dev.hatspark.space.Genetics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The architecture is described three times (the model's forward and incremental decoder, its
 * parameter count, {@link Flops}); this test ties the descriptions to what the forward really reads,
 * over many configs: a backward pass marks every parameter element a SubTransformer uses.
 * (DecodingTest ties the incremental decoder to the forward.)
 */
class ArchitectureCrossCheckTest {
    static NDManager root;

    @BeforeAll
    static void start() {
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    @ParameterizedTest
    @EnumSource(Arrangement.class)
    void parameterCountAndFlopsMatchTheElementsTheForwardReads(Arrangement arrangement) {
        int vocab = 40;
        DesignSpace space = DesignSpace.parse(SuperTransformerTest.TINY + "arrangement: " + arrangement.yamlName + "\n", "tiny");
        Set<ArchConfig> configs = new LinkedHashSet<>(List.of(space.largest(), space.smallest()));
        configs.addAll(Genetics.sampleDistinct(space, 24, 9));
        Batch batch = SuperTransformerTest.batch(5, vocab);
        try (SuperTransformer m = SuperTransformer.create(space, vocab, vocab, 3, root)) {
            // FFN units inactive on every token of a small batch would get no gradient: shift them all on
            Grad.disabled(() -> {
                m.parameterMap().forEach((name, p) -> {
                    if (name.endsWith(".b1")) {
                        p.addi(10f);
                    }
                });
                return null;
            });
            for (ArchConfig c : configs) {
                long used = 0;
                long weights2d = 0;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(m.loss(c, batch, false, 0.1f));
                }
                for (Map.Entry<String, NDArray> e : m.parameterMap().entrySet()) {
                    try (NDArray g = e.getValue().getGradient()) {
                        // a key bias adds the same number to every score of a query: softmax ignores it, so
                        // its gradient is exactly zero although the forward reads it
                        long n = e.getKey().endsWith(".k.b") && isUsedKeyBias(e.getKey(), c) ? g.size()
                                // an embedding row gets a gradient only for tokens in the batch: count its columns
                                : e.getKey().startsWith("embed.") ? g.neq(0).sum(new int[] {0}).gt(0).sum().getLong() * g.getShape().get(0)
                                : g.neq(0).sum().getLong();
                        used += n;
                        if (g.getShape().dimension() == 2 && !e.getKey().startsWith("embed.")) {
                            weights2d += n;
                        }
                    }
                    e.getValue().getGradient().subi(e.getValue().getGradient());
                }
                assertEquals(m.parameterCount(c), used, arrangement + ": parameters read by " + c.toJson());

                // one token in, one out: FLOPs are 2 per weight MAC (cross-attention K/V once per attended
                // layer) plus the output projection plus 2*2*qkv per attention's scores and weighted sum
                int q = space.qkvDim;
                long crossKv = 0;
                for (int i = 0; i < c.decoderLayerNum(); i++) {
                    crossKv += (c.decoderArbitraryEndeAttn(i) - 1) * 2L * c.encoderEmbedDim() * q;
                }
                double scores = 0;
                for (int i = 0; i < c.decoderLayerNum(); i++) {
                    scores += 2 * 2 * q + 2 * 2 * c.decoderArbitraryEndeAttn(i) * q;
                }
                scores += c.encoderLayerNum() * 2 * 2 * q;
                assertEquals(Flops.forward(c, q, vocab, 1, 1, 1),
                        2.0 * (weights2d + crossKv) + 2.0 * c.decoderEmbedDim() * vocab + scores, 1e-6,
                        "FLOPs of " + c.toJson());
            }
        }
    }

    /** Whether {@code name} (e.g. dec.1.cross.k.b) is the key bias of a layer config {@code c} has. */
    private static boolean isUsedKeyBias(String name, ArchConfig c) {
        String[] p = name.split("\\.");
        int layer = Integer.parseInt(p[1]);
        return p[0].equals("enc") ? layer < c.encoderLayerNum() : layer < c.decoderLayerNum();
    }
}
