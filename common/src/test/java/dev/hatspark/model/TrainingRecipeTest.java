package dev.hatspark.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingRecipeTest {
    private static TrainingRecipe recipe(long steps, float lr, int validEvery) {
        return new TrainingRecipe(steps, lr, 10, 0.1f, 1, 512, 64, validEvery, 5, 5, 2, 0f);
    }

    @Test
    void aCheckpointResumesUnderMoreStepsOrOtherBookkeepingButNotAnotherRecipeSourceOrVocabulary() {
        TrainingRecipe r = recipe(100, 1e-3f, 10);
        String key = r.resumeKey();
        assertNull(recipe(300, 1e-3f, 50).resumeProblem("c", "f", key, "S@1", "v", "S@1", "v"),
                "more steps and other intervals resume");
        assertNotEquals(key, recipe(100, 2e-3f, 10).resumeKey());
        String lr = recipe(100, 2e-3f, 10).resumeProblem("ckpt", "dir", key, null, "v", null, "v");
        assertTrue(lr.contains("lr=0.001") && lr.contains("delete dir"), lr);
        String from = r.resumeProblem("ckpt", "dir", key, "S@1", "v", "S@2", "v");
        assertTrue(from.contains("fine-tuned from SuperTransformer S@1, not S@2"), from);
        assertNull(r.resumeProblem("ckpt", "dir", key, null, "v", null, "v"), "from scratch: no source to compare");
        String vocab = r.resumeProblem("ckpt", "dir", key, null, "v1", null, "v2");
        assertTrue(vocab.contains("another vocabulary"), vocab);
    }
}
