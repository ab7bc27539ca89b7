package dev.hatspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hatspark.corpus.Vocab;
import dev.hatspark.space.Arrangement;
import dev.hatspark.space.ArchConfig;
import dev.hatspark.space.DesignSpace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden test against HAT's own PyTorch SuperTransformer (test resources hat-oracle/, see its README):
 * HAT's weights, args and SubTransformer ymls loaded through our importers must give HAT's per-token
 * log-probs on HAT's batch, collated our way (right-padded sources).
 */
class HatOracleTest {
    private static final String DIR = "/hat-oracle";
    private static final ObjectMapper JSON = new ObjectMapper();
    static NDManager root;
    static DesignSpace space;
    static Vocab vocab;
    static Map<String, HatStateDict.Tensor> tensors;
    static SuperTransformer model;
    static JsonNode batchJson;
    static JsonNode expected;
    static Batch batch;

    @BeforeAll
    static void load() throws IOException {
        root = NDManager.newBaseManager();
        Map<String, Object> args = JSON.convertValue(JSON.readTree(TensorsBin.resource(DIR + "/args.json")).get("args"),
                new TypeReference<Map<String, Object>>() { });
        space = DesignSpace.fromHatArgs(args, "hat-oracle");
        vocab = Vocab.fromFairseqDictionary(text("dict.txt"), "dict.txt");
        tensors = TensorsBin.read(DIR);
        model = SuperTransformer.fromTensors(space, vocab.size(), vocab.size(), tensors, root);
        batchJson = JSON.readTree(TensorsBin.resource(DIR + "/batch.json"));
        expected = JSON.readTree(TensorsBin.resource(DIR + "/expected.json"));
        // HAT's batch rows (sentence id[r]) collated our way: Batch appends </s> and right-pads
        List<int[][]> pairs = new ArrayList<>();
        for (JsonNode id : batchJson.get("id")) {
            pairs.add(new int[][] {withoutEos(batchJson.get("source_token_ids").get(id.asInt())),
                    withoutEos(batchJson.get("target_token_ids").get(id.asInt()))});
        }
        batch = new Batch(pairs);
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    @Test
    void argsGiveHatsSpaceAndTheDictionaryReencodesTheBatch() {
        assertEquals(Arrangement.HAT, space.arrangement);
        assertEquals(32, space.qkvDim);
        assertArrayEquals(new int[] {64, 48}, space.encoderEmbedDim);
        assertArrayEquals(new int[] {3, 2, 1}, space.decoderLayerNum);
        assertArrayEquals(new int[] {1, 2, 3}, space.decoderArbitraryEndeAttn, "HAT's -1/1/2");
        assertEquals(60, vocab.size());
        assertEquals(batchJson.get("pad_index").asInt(), Vocab.PAD);
        assertEquals(batchJson.get("bos_index").asInt(), Vocab.BOS);
        assertEquals(batchJson.get("eos_index").asInt(), Vocab.EOS);
        assertEquals(batchJson.get("unk_index").asInt(), Vocab.UNK);
        for (String side : new String[] {"source", "target"}) {
            for (int i = 0; i < 4; i++) {
                String[] words = batchJson.get(side + "_sentences").get(i).asText().split(" ");
                int[] ids = new int[words.length + 1];
                for (int w = 0; w < words.length; w++) {
                    ids[w] = vocab.id(words[w]);
                }
                ids[words.length] = Vocab.EOS;
                assertArrayEquals(ints(batchJson.get(side + "_token_ids").get(i)), ids, side + " " + i);
            }
        }
    }

    /** With the log-prob tests this shows that right padding gives HAT's (left-padded) numbers. */
    @Test
    void ourBatchIsHatsButForWhereTheSourcePadsSit() {
        assertArrayEquals(longs(batchJson.get("prev_output_tokens")), batch.tgtIn, "decoder input starts with </s>");
        assertArrayEquals(longs(batchJson.get("target")), batch.tgtOut);
        assertEquals(batchJson.get("ntokens").asInt(), batch.targetTokens);
        JsonNode hatSrc = batchJson.get("src_tokens");
        assertFalse(Arrays.equals(longs(hatSrc), batch.src), "HAT left-pads, we right-pad");
        for (int r = 0; r < batch.size; r++) {
            long[] real = Arrays.stream(ints(hatSrc.get(r))).filter(t -> t != Vocab.PAD).asLongStream().toArray();
            long[] ours = Arrays.copyOfRange(batch.src, r * batch.srcLen, (r + 1) * batch.srcLen);
            long[] padded = Arrays.copyOf(real, batch.srcLen);
            Arrays.fill(padded, real.length, padded.length, Vocab.PAD);
            assertArrayEquals(padded, ours, "row " + r);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"largest", "smallest", "mixed_a", "mixed_b", "mixed_c", "mixed_d"})
    void teacherForcedLogProbsNllAndParamsEqualHats(String name) throws IOException {
        ArchConfig c = config(name);
        JsonNode exp = expected(name);
        double maxDiff = maxLogProbDiff(model, c, exp);
        double nll = nllSum(model, c);
        double nllDiff = Math.abs(nll - exp.get("nll_sum").asDouble());
        long hatParams = exp.get("sampled_params_numel").asLong();
        System.out.printf("HAT oracle %-8s max |dlogp| %.2e  |dNLL| %.2e  params %d (HAT %d)%n", name, maxDiff, nllDiff,
                model.hatParameterCount(c), hatParams);
        assertTrue(maxDiff < 1e-4, name + ": log-probs differ by up to " + maxDiff);
        assertTrue(nllDiff < 1e-3, name + ": NLL sum " + nll + " vs HAT " + exp.get("nll_sum"));
        assertEquals(hatParams, model.hatParameterCount(c), name);
        int e = c.encoderEmbedDim();
        int d = c.decoderEmbedDim();
        assertEquals(hatParams + 60L * Math.max(e, d), model.parameterCount(c), "ours adds only the embedding");
    }

    /** HAT's own checkpoint files, read by our torch reader: the fp32 ones to 1e-4 per log-prob, fp16 to 5e-3. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"supernet-legacy.pt, 1e-4, 1e-3", "supernet-zip.pt, 1e-4, 1e-3",
            "supernet-fp16-legacy.pt, 5e-3, 5e-2"})
    void hatsCheckpointFilesGiveHatsLogProbs(String file, double tolerance, double nllTolerance) throws IOException {
        Map<String, HatStateDict.Tensor> weights = new LinkedHashMap<>();
        try (var in = new java.io.BufferedInputStream(HatOracleTest.class.getResourceAsStream(DIR + "/" + file))) {
            dev.hatspark.torch.TorchCheckpoint.stateDict(dev.hatspark.torch.TorchCheckpoint.read(in, file), "model")
                    .forEach((name, t) -> weights.put(name, new HatStateDict.Tensor(t.shape(), t.floats())));
        }
        try (SuperTransformer m = SuperTransformer.fromTensors(space, vocab.size(), vocab.size(), weights, root)) {
            for (String name : List.of("largest", "smallest", "mixed_a", "mixed_b", "mixed_c", "mixed_d")) {
                ArchConfig c = config(name);
                JsonNode exp = expected(name);
                double maxDiff = maxLogProbDiff(m, c, exp);
                double nll = nllSum(m, c);
                double nllDiff = Math.abs(nll - exp.get("nll_sum").asDouble());
                System.out.printf("HAT oracle %s %-8s max |dlogp| %.2e  |dNLL| %.2e%n", file, name, maxDiff, nllDiff);
                assertTrue(maxDiff < tolerance, file + " " + name + ": log-probs differ by up to " + maxDiff);
                assertTrue(nllDiff < nllTolerance, file + " " + name + ": NLL sum differs by " + nllDiff);
            }
        }
    }

    /** The latency path: encoder once, then one decoder step per token (positions t + 2, post-norm per step). */
    @ParameterizedTest
    @ValueSource(strings = {"largest", "smallest", "mixed_a", "mixed_b", "mixed_c", "mixed_d"})
    void incrementalStepsGiveHatsLogProbs(String name) throws IOException {
        ArchConfig c = config(name);
        JsonNode exp = expected(name);
        BeamSearch bs = new BeamSearch(model, 1, 1f);
        for (int r = 0; r < batch.size; r++) {
            int row = r;
            int id = batchJson.get("id").get(r).asInt();
            JsonNode gold = exp.get("target_logprobs").get(r);
            long[] feed = longs(batchJson.get("prev_output_tokens").get(r));
            long[] target = longs(batchJson.get("target").get(r));
            double maxDiff = Grad.disabled(() -> {
                try (NDScope ignored = new NDScope()) {
                    BeamSearch.Encoded enc = bs.encode(c, withoutEos(batchJson.get("source_token_ids").get(id)));
                    IncrementalDecoder dec = new IncrementalDecoder(model, c, enc.states, enc.mask);
                    double worst = 0;
                    for (int t = 0; t < gold.size(); t++) {
                        NDArray lp = dec.step(root.create(new long[] {feed[t]}));
                        worst = Math.max(worst, Math.abs(lp.getFloat(0, target[t]) - gold.get(t).asDouble()));
                    }
                    return worst;
                }
            });
            assertTrue(maxDiff < 1e-4, name + " row " + row + ": incremental log-probs differ by up to " + maxDiff);
        }
    }

    @Test
    void exportGivesBackHatsStateDict() {
        Map<String, HatStateDict.Tensor> back = model.toHatTensors();
        assertEquals(new ArrayList<>(tensors.keySet()), new ArrayList<>(back.keySet()), "names and order");
        tensors.forEach((name, t) -> {
            assertArrayEquals(t.shape(), back.get(name).shape(), name);
            assertArrayEquals(t.data(), back.get(name).data(), name);
        });
        assertEquals("encoder.layers.0.self_attn.in_proj_weight[32:64]",
                HatStateDict.names(space, 60, 60).get("enc.0.self.k.w"));
    }

    @Test
    void configsRoundTripThroughHatYaml() throws IOException {
        for (String name : List.of("largest", "smallest", "mixed_a", "mixed_b", "mixed_c", "mixed_d")) {
            ArchConfig c = config(name);
            assertEquals(c, ArchConfig.fromHatYaml(c.toHatYaml(), "back.yml"), name);
        }
        ArchConfig a = config("mixed_a");
        assertEquals(2, a.decoderLayerNum());
        assertEquals(1, a.decoderArbitraryEndeAttn(0), "-1: the last encoder layer");
        assertEquals(3, a.decoderArbitraryEndeAttn(1), "2: the last three");
        assertTrue(a.toHatYaml().contains("decoder-arbitrary-ende-attn-all-subtransformer: [-1, 2]"), a.toHatYaml());
        // lists longer than the layer number (HAT's sampler gives one entry per super layer) are cut
        String longer = text("subtransformers/smallest.yml").replaceAll("decoder-ffn-embed-dim-all-subtransformer: .*",
                "decoder-ffn-embed-dim-all-subtransformer: [64, 128, 96]");
        assertEquals(config("smallest"), ArchConfig.fromHatYaml(longer, "longer.yml"));
        var e = assertThrows(IllegalArgumentException.class, () -> ArchConfig.fromHatYaml(
                text("subtransformers/smallest.yml").replaceAll("(?m)^decoder-layer-num-subtransformer.*$", ""), "x.yml"));
        assertTrue(e.getMessage().startsWith("x.yml: 'decoder-layer-num-subtransformer' must be an integer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ArchConfig.fromHatYaml(
                a.toHatYaml().replace("[-1, 2]", "[-1, 3]"), "x.yml"));
        assertTrue(e.getMessage().contains("decoder-arbitrary-ende-attn-all-subtransformer[1] is 3"), e.getMessage());
    }

    @Test
    void importRefusesInOneLineNamingTheKey() {
        Map<String, HatStateDict.Tensor> missing = new LinkedHashMap<>(tensors);
        missing.remove("decoder.layers.2.fc1.weight");
        assertRefused(space, missing, "HAT state dict has no tensor 'decoder.layers.2.fc1.weight'");

        Map<String, HatStateDict.Tensor> extra = new LinkedHashMap<>(tensors);
        extra.put("encoder.layer_norm.weight", new HatStateDict.Tensor(new long[] {64}, new float[64]));
        assertRefused(space, extra, "HAT tensor 'encoder.layer_norm.weight' has no counterpart");

        Map<String, HatStateDict.Tensor> untied = new LinkedHashMap<>(tensors);
        float[] other = tensors.get("decoder.embed_tokens.weight").data().clone();
        other[70] += 1;
        untied.put("decoder.embed_tokens.weight", new HatStateDict.Tensor(new long[] {60, 64}, other));
        assertRefused(space, untied, "HAT tensor 'decoder.embed_tokens.weight' differs from the encoder's embedding");

        DesignSpace narrower = DesignSpace.parse(space.yaml().replace("- 128\n", "- 256\n"), "wider.yaml");
        assertRefused(narrower, tensors, "HAT tensor 'encoder.layers.0.fc1.weight' has shape [128, 64], "
                + "design space 'hat-oracle' (vocabularies 60/60) needs [256, 64]");

        DesignSpace prenorm = DesignSpace.parse(space.yaml().replace("arrangement: \"hat\"", "arrangement: prenorm"), "p.yaml");
        assertEquals(Arrangement.PRENORM, prenorm.arrangement);
        assertRefused(prenorm, tensors, "has arrangement prenorm: HAT's tensors fit only arrangement: hat");
    }

    @Test
    void fromHatArgsRefusesWhatItCannotReproduce() throws IOException {
        Map<String, Object> args = JSON.convertValue(JSON.readTree(TensorsBin.resource(DIR + "/args.json")).get("args"),
                new TypeReference<Map<String, Object>>() { });
        Map<String, Object> plain = new LinkedHashMap<>(args);
        plain.put("arch", "transformer_wmt_en_de");
        assertArgsRefused(plain, "x: not a HAT SuperTransformer's args (arch transformer_wmt_en_de)");
        plain = new LinkedHashMap<>(args);
        plain.keySet().removeIf(k -> k.endsWith("_choice"));
        assertArgsRefused(plain, "no encoder_embed_choice");
        Map<String, Object> preNorm = new LinkedHashMap<>(args);
        preNorm.put("decoder_normalize_before", true);
        assertArgsRefused(preNorm, "x: decoder_normalize_before=true is not supported");
        Map<String, Object> bigger = new LinkedHashMap<>(args);
        bigger.put("encoder_ffn_embed_dim", 256);
        assertArgsRefused(bigger, "x: encoder_ffn_embed_dim=256 is not the largest encoder_ffn_embed_dim_choice 128");
        Map<String, Object> arbitrary = new LinkedHashMap<>(args);
        arbitrary.put("decoder_arbitrary_ende_attn_choice", List.of(-1, 0));
        assertArgsRefused(arbitrary, "x: decoder_arbitrary_ende_attn_choice[1] is 0, HAT knows -1, 1 and 2");
    }

    private static void assertArgsRefused(Map<String, Object> args, String message) {
        var e = assertThrows(IllegalArgumentException.class, () -> DesignSpace.fromHatArgs(args, "x"));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static void assertRefused(DesignSpace s, Map<String, HatStateDict.Tensor> t, String message) {
        var e = assertThrows(IllegalArgumentException.class, () -> SuperTransformer.fromTensors(s, 60, 60, t, root));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    /** Largest |ours - HAT's| teacher-forced log-prob of a gold target token of the oracle batch. */
    private static double maxLogProbDiff(SuperTransformer m, ArchConfig c, JsonNode exp) {
        float[] ours = Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                NDArray logp = m.logProbs(c, batch, false);
                return logp.gather(batch.tgtOut(root).expandDims(-1), -1).squeeze(-1).toFloatArray();
            }
        });
        double maxDiff = 0;
        for (int r = 0; r < batch.size; r++) {
            JsonNode gold = exp.get("target_logprobs").get(r);
            for (int t = 0; t < gold.size(); t++) {
                maxDiff = Math.max(maxDiff, Math.abs(ours[r * batch.tgtLen + t] - gold.get(t).asDouble()));
            }
        }
        return maxDiff;
    }

    private static double nllSum(SuperTransformer m, ArchConfig c) {
        return Grad.disabled(() -> {
            try (NDScope ignored = new NDScope()) {
                return m.nllSum(c, batch);
            }
        });
    }

    private static ArchConfig config(String name) throws IOException {
        return ArchConfig.fromHatYaml(text("subtransformers/" + name + ".yml"), name + ".yml").validate(space);
    }

    private static JsonNode expected(String name) {
        for (JsonNode c : expected.get("configs")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no config " + name + " in expected.json");
    }

    private static String text(String file) throws IOException {
        return new String(TensorsBin.resource(DIR + "/" + file), StandardCharsets.UTF_8);
    }

    private static int[] ints(JsonNode list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i).asInt();
        }
        return out;
    }

    private static int[] withoutEos(JsonNode ids) {
        int[] all = ints(ids);
        assertEquals(Vocab.EOS, all[all.length - 1]);
        return Arrays.copyOf(all, all.length - 1);
    }

    /** A list, or a list of lists flattened row by row. */
    private static long[] longs(JsonNode list) {
        List<Long> out = new ArrayList<>();
        for (JsonNode n : list) {
            if (n.isArray()) {
                n.forEach(x -> out.add(x.asLong()));
            } else {
                out.add(n.asLong());
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }
}
