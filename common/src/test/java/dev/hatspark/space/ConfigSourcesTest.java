package dev.hatspark.space;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hatspark.util.BadInputException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HAT's SubTransformer ymls (the six files of HAT's oracle, test resources hat-oracle/subtransformers/,
 * HAT's exact format) through {@link ConfigSources}: a file, a folder, JSON, and bad files.
 */
class ConfigSourcesTest {
    static final List<String> NAMES = List.of("largest", "mixed_a", "mixed_b", "mixed_c", "mixed_d", "smallest");
    static final ObjectMapper JSON = new ObjectMapper();
    static Path oracle;
    static Map<String, Object> hatArgs;
    static DesignSpace space;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        oracle = Path.of(ConfigSourcesTest.class.getResource("/hat-oracle").toURI());
        hatArgs = JSON.convertValue(JSON.readTree(oracle.resolve("args.json").toFile()).get("args"),
                new TypeReference<Map<String, Object>>() { });
        space = DesignSpace.fromHatArgs(hatArgs, "hat-oracle");
    }

    static List<ArchConfig> read(Object spec) {
        return ConfigSources.configs(spec.toString(), ConfigSources.local(), space);
    }

    static String bad(Object spec) {
        String m = assertThrows(BadInputException.class, () -> read(spec)).getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void eachHatFileRoundTripsThroughOurYmlToTheSameHash() throws IOException {
        JsonNode expected = JSON.readTree(oracle.resolve("expected.json").toFile());
        for (String name : NAMES) {
            Path file = oracle.resolve("subtransformers/" + name + ".yml");
            ArchConfig c = read(file).get(0);
            Path back = tmp.resolve(name + ".yml");
            Files.writeString(back, c.toHatYaml());
            assertEquals(c.hash(), read(back).get(0).hash(), name);
            // the values HAT's generator recorded for this config, key by key, in HAT's terms (-1/1/2)
            JsonNode hat = null;
            for (JsonNode e : expected.get("configs")) {
                hat = e.get("name").asText().equals(name) ? e.get("config") : hat;
            }
            JsonNode ours = new ObjectMapper(new YAMLFactory()).readTree(c.toHatYaml());
            for (Iterator<String> keys = hat.fieldNames(); keys.hasNext(); ) {
                String k = keys.next();
                assertEquals(hat.get(k), ours.get(k), name + " " + k);
            }
        }
        ArchConfig b = read(oracle.resolve("subtransformers/mixed_b.yml")).get(0);
        assertArrayEquals(new int[] {3, 1, 2}, new int[] {b.decoderArbitraryEndeAttn(0), b.decoderArbitraryEndeAttn(1),
                b.decoderArbitraryEndeAttn(2)}, "HAT's [2, -1, 1]: the last 3, 1 and 2 encoder layers");
    }

    @Test
    void aFolderGivesItsYmlFilesInNameOrderAndPassesOverHatsCommonYml() throws IOException {
        for (String name : NAMES) {
            Files.copy(oracle.resolve("subtransformers/" + name + ".yml"), tmp.resolve(name + ".yml"));
        }
        // HAT's subtransformer/ folder holds common.yml (training settings) beside the configs
        Files.writeString(tmp.resolve("common.yml"), "train-subtransformer: True\narch: transformersuper_wmt_en_de\n"
                + "encoder-embed-dim: 640\nqkv-dim: 512\n");
        Files.writeString(tmp.resolve(".mixed_a.yml._tmp-1"), "half a file");
        Files.writeString(tmp.resolve("notes.txt"), "not a config");
        List<ConfigSources.Named> got = ConfigSources.read(tmp.toString(), ConfigSources.local(), space);
        assertEquals(NAMES.stream().map(n -> tmp.resolve(n + ".yml").toString()).toList(),
                got.stream().map(ConfigSources.Named::source).toList());
        for (int i = 0; i < NAMES.size(); i++) {
            assertEquals(read(oracle.resolve("subtransformers/" + NAMES.get(i) + ".yml")).get(0), got.get(i).config());
        }
        assertTrue(bad(tmp.resolve("common.yml")).startsWith(tmp.resolve("common.yml") + ": 'encoder-layer-num-subtransformer'"
                + " must be an integer"), "a file given by name must be a config");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.copy(tmp.resolve("common.yml"), empty.resolve("common.yml"));
        assertTrue(bad(empty).contains("holds no HAT SubTransformer .yml file (of 1 .yml files)"), bad(empty));
    }

    @Test
    void jsonTextAndJsonLinesAreReadAsBefore() throws IOException {
        ArchConfig largest = space.largest();
        assertEquals(List.of(largest), read(largest.toJson()));
        Path lines = tmp.resolve("configs.txt");
        Files.writeString(lines, "# two\n" + space.smallest().toJson() + "\n\n" + largest.toJson() + "\n");
        assertEquals(List.of(space.smallest(), largest), read(lines));
        Files.writeString(lines, largest.toJson() + "\n" + largest.toJson().replace("\"encoder_embed_dim\":64",
                "\"encoder_embed_dim\":65") + "\n");
        assertTrue(bad(lines).startsWith(lines + ":2: config field 'encoder_embed_dim'=65 is not in design space"), bad(lines));
        assertTrue(bad(tmp.resolve("nothing.yml")).contains("is neither a config JSON nor an existing file or folder"));
    }

    @Test
    void aBadYmlIsRefusedInOneLineNamingTheFileAndHatsKey() throws IOException {
        String mixedA = Files.readString(oracle.resolve("subtransformers/mixed_a.yml"));
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(mixedA.replace("encoder-embed-dim-subtransformer: 64", "encoder-embed-dim-subtransformer: wide"),
                "'encoder-embed-dim-subtransformer' must be an integer, got \"wide\"");
        cases.put(mixedA.replaceAll("(?m)^decoder-ende-attention-heads-all-subtransformer.*$", ""),
                "'decoder-ende-attention-heads-all-subtransformer' must be a list of at least 2 integers, got null");
        cases.put(mixedA.replace("[96, 128]", "[96, 100]"),
                "'decoder-ffn-embed-dim-all-subtransformer[1]'=100 is not in design space 'hat-oracle' (choices [128, 96, 64])");
        cases.put(mixedA.replace("encoder-layer-num-subtransformer: 3", "encoder-layer-num-subtransformer: 2"),
                "'encoder-layer-num-subtransformer'=2 is not in design space 'hat-oracle' (choices [3])");
        cases.put(mixedA.replace("[-1, 2]", "[-1, 0]"), "decoder-arbitrary-ende-attn-all-subtransformer[1] is 0,"
                + " HAT knows -1, 1 and 2");
        cases.put(mixedA.replace("decoder-layer-num-subtransformer: 2", "decoder-layer-num-subtransformer: 0"),
                "'decoder-layer-num-subtransformer' must be at least 1, got 0");
        cases.put("encoder-embed-dim-subtransformer: [64\n", "not valid YAML");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path f = tmp.resolve("bad" + i++ + ".yml");
            Files.writeString(f, c.getKey());
            String m = bad(f);
            assertTrue(m.startsWith(f + ": ") && m.contains(c.getValue()), m);
        }
        // the space's arbitrary choices in HAT's values, when the space allows fewer than HAT's three
        Map<String, Object> args = new LinkedHashMap<>(hatArgs);
        args.put("decoder_arbitrary_ende_attn_choice", List.of(-1, 1));
        DesignSpace two = DesignSpace.fromHatArgs(args, "two");
        Path f = tmp.resolve("three.yml");
        Files.writeString(f, mixedA);
        var e = assertThrows(BadInputException.class, () -> ConfigSources.read(f.toString(), ConfigSources.local(), two));
        assertEquals(f + ": 'decoder-arbitrary-ende-attn-all-subtransformer[1]'=2 is not in design space 'two' (choices [-1, 1])",
                e.getMessage());
    }

    @Test
    void listsLongerThanTheLayerNumberAreCutAsHatDoes() throws IOException {
        // HAT's sampler writes one entry per super layer; HAT reads the first decoder-layer-num of them
        String mixedC = Files.readString(oracle.resolve("subtransformers/mixed_c.yml"))
                .replace("decoder-ffn-embed-dim-all-subtransformer: [128]", "decoder-ffn-embed-dim-all-subtransformer: [128, 64, 96]")
                .replace("decoder-arbitrary-ende-attn-all-subtransformer: [2]", "decoder-arbitrary-ende-attn-all-subtransformer: [2, -1, 1]");
        Path f = tmp.resolve("long.yml");
        Files.writeString(f, mixedC);
        assertEquals(read(oracle.resolve("subtransformers/mixed_c.yml")), read(f));
        assertEquals(1, read(f).get(0).decoderLayerNum());
    }

    @Test
    void attendingToMoreThanThreeEncoderLayersHasNoHatYml() {
        ArchConfig four = new ArchConfig(64, new int[] {128, 128, 128, 128}, new int[] {4, 4, 4, 4}, 64, new int[] {128},
                new int[] {4}, new int[] {4}, new int[] {4});
        // in a space of 1 or 2 encoder layers, HAT's 2 (the last three) is too many, said in HAT's terms
        DesignSpace shallow = DesignSpace.parse("""
                name: shallow
                qkv_dim: 32
                dropout: 0.1
                encoder: {embed_dim: [64], layer_num: [1, 2], ffn_embed_dim: [128], self_attention_heads: [4]}
                decoder: {embed_dim: [64], layer_num: [1], ffn_embed_dim: [128], self_attention_heads: [4],
                          ende_attention_heads: [4], arbitrary_ende_attn: [1, 2, 3]}
                """, "shallow");
        String yml = new ArchConfig(64, new int[] {128, 128}, new int[] {4, 4}, 64, new int[] {128}, new int[] {4},
                new int[] {4}, new int[] {3}).toHatYaml();
        assertEquals("x.yml: 'decoder-arbitrary-ende-attn-all-subtransformer[0]'=2 attends to the last 3 encoder layers, but"
                + " there are encoder-layer-num-subtransformer=2", assertThrows(BadInputException.class,
                () -> ArchConfig.fromHatYaml(yml, "x.yml").validateAsHat(shallow, "x.yml")).getMessage());
        var e = assertThrows(BadInputException.class, four::toHatYaml);
        assertTrue(e.getMessage().contains("HAT attends to the last 1, 2 or 3 encoder layers only"), e.getMessage());
    }

    @Test
    void theSpaceAsHatSuperTransformerKeysIsHatsOwnArgs() throws IOException {
        JsonNode ours = new ObjectMapper(new YAMLFactory()).readTree(space.toHatYaml());
        Map<String, Object> back = new LinkedHashMap<>();
        back.put("arch", "transformersuper_wmt_en_de");
        back.put("share_all_embeddings", true);
        for (Iterator<String> keys = ours.fieldNames(); keys.hasNext(); ) {
            String k = keys.next();
            String arg = k.replace('-', '_');
            // HAT's argparse names the embedding choices encoder_embed_choice, as the yml does
            assertEquals(JSON.valueToTree(hatArgs.get(arg)), ours.get(k), k + " as in HAT's args.json");
            back.put(arg, JSON.convertValue(ours.get(k), Object.class));
        }
        assertEquals(19, back.size() - 2, "every SuperTransformer and search-space key");
        assertEquals(List.of(), DesignSpace.fromHatArgs(back, "back").differences(space, "back", "oracle"));
    }
}
