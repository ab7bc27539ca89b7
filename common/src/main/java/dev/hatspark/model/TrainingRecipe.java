package dev.hatspark.model;

import java.io.Serializable;

/**
 * The recipe of a training run (SuperTransformer or a SubTransformer on its own): everything but
 * {@code steps} and the bookkeeping intervals must match for a checkpoint to be resumed.
 */
public record TrainingRecipe(long steps, float lr, int warmup, float labelSmoothing, long seed, int maxTokens, int maxLen,
                             int validEvery, int checkpointEvery, int logEvery, int keepCheckpoints, float clipNorm)
        implements Serializable {

    /** What a checkpoint stores of its recipe, and a resume compares. */
    public String resumeKey() {
        return "lr=" + lr + " warmup=" + warmup + " label_smoothing=" + labelSmoothing + " seed=" + seed
                + " max_tokens=" + maxTokens + " max_len=" + maxLen;
    }

    public SupernetTrainer.Options options() {
        return new SupernetTrainer.Options(steps, lr, warmup, labelSmoothing, seed, validEvery, checkpointEvery, logEvery, clipNorm);
    }

    /**
     * Why a SubTransformer checkpoint cannot be resumed by this training, or null when it can: it must
     * have been trained with the same recipe, fine-tuned from the same SuperTransformer (when
     * fine-tuning) and on the same target vocabulary. {@code folder} is what to delete to start over.
     */
    public String resumeProblem(String checkpoint, String folder, String storedRecipe, String storedInitFrom,
                                String storedVocab, String initFrom, String vocab) {
        if (!storedRecipe.equals(resumeKey())) {
            return "checkpoint " + checkpoint + " was trained with " + storedRecipe + ", not " + resumeKey()
                    + ": use the same options or delete " + folder;
        }
        if (initFrom != null && !initFrom.equals(storedInitFrom)) {
            return "checkpoint " + checkpoint + " was fine-tuned from SuperTransformer " + storedInitFrom + ", not "
                    + initFrom + ": delete " + folder + " to fine-tune again";
        }
        if (!storedVocab.equals(vocab)) {
            return "checkpoint " + checkpoint + " was trained with another vocabulary than corpus/ has now";
        }
        return null;
    }
}
