package dev.hatspark.space;

import java.util.Arrays;

/**
 * How the SuperTransformer arranges LayerNorms and positions (design-space YAML key
 * {@code arrangement}). Both share the same sliced weights, heads, Q/K/V width and arbitrary
 * encoder-decoder attention; they differ only where HAT's code differs from our first model.
 */
public enum Arrangement {
    /**
     * HAT's (fairseq/models/transformer_super.py, WMT defaults): post-norm sublayers
     * {@code x = LN(x + f(x))}, no final encoder/decoder LayerNorm, sinusoids built at the super
     * embedding dim and sliced to the sampled one, positions counted from padding_idx + 1 = 2.
     */
    HAT("hat"),
    /**
     * Ours before HAT's was reproduced: pre-norm sublayers {@code x = x + f(LN(x))}, a final LayerNorm
     * after the encoder and the decoder, sinusoids computed at the sampled dim from position 0.
     */
    PRENORM("prenorm");

    public final String yamlName;

    Arrangement(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The arrangement named {@code name} in YAML; {@code null} for an unknown name. */
    static Arrangement of(String name) {
        return Arrays.stream(values()).filter(a -> a.yamlName.equals(name)).findFirst().orElse(null);
    }
}
