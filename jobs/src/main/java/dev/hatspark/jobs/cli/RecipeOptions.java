package dev.hatspark.jobs.cli;

import dev.hatspark.model.Torch;
import dev.hatspark.model.TrainingRecipe;
import dev.hatspark.util.BadInputException;
import picocli.CommandLine.Option;

/** The training recipe's options, one declaration for train-supernet, train-subnet and validate-supernet. */
public final class RecipeOptions {
    @Option(names = "--steps", description = "Updates to train to (a resumed run stops here too). Default: ${DEFAULT-VALUE}")
    public long steps = 2000;

    @Option(names = "--max-tokens", description = "Token budget of a batch (padded). Default: ${DEFAULT-VALUE}")
    public int maxTokens = 3072;

    @Option(names = "--lr", description = "Peak learning rate. Default: ${DEFAULT-VALUE}")
    public float lr = 1e-3f;

    @Option(names = "--warmup", description = "Warm-up updates. Default: ${DEFAULT-VALUE}")
    public int warmup = 400;

    @Option(names = "--label-smoothing", description = "Default: ${DEFAULT-VALUE}")
    public float labelSmoothing = 0.1f;

    @Option(names = "--seed", description = "Seed of initialisation (from scratch), batch order and dropout. Default: ${DEFAULT-VALUE}")
    public long seed = 1;

    @Option(names = "--max-len", description = "Drop training pairs longer than this many tokens per side. Default: ${DEFAULT-VALUE}")
    public int maxLen = 96;

    @Option(names = "--valid-sentences", description = "Validation pairs for the loss (0 = all). Default: ${DEFAULT-VALUE}")
    public int validSentences = 0;

    @Option(names = "--valid-every", description = "Default: ${DEFAULT-VALUE}")
    public int validEvery = 250;

    @Option(names = "--checkpoint-every", description = "Default: ${DEFAULT-VALUE}")
    public int checkpointEvery = 250;

    @Option(names = "--keep-checkpoints", description = "Newest checkpoints kept. Default: ${DEFAULT-VALUE}")
    public int keepCheckpoints = 3;

    @Option(names = "--log-every", description = "Default: ${DEFAULT-VALUE}")
    public int logEvery = 50;

    @Option(names = "--clip-norm", description = "Clip the gradients' total L2 norm to this (fairseq's --clip-norm); 0 = off. Default: ${DEFAULT-VALUE}")
    public float clipNorm = 0f;

    @Option(names = "--threads", description = "PyTorch intra-op threads of the training (0 = all cores). Default: ${DEFAULT-VALUE}")
    public int threads = 0;

    /** Trainings run on the driver with all its cores unless --threads says otherwise. */
    public void useThreads() {
        Torch.threads(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), 0);
    }

    public TrainingRecipe recipe() {
        if (steps < 1 || maxTokens < 1 || warmup < 1 || validEvery < 1 || checkpointEvery < 1 || logEvery < 1
                || keepCheckpoints < 1 || maxLen < 1) {
            throw new BadInputException("--steps, --max-tokens, --max-len, --warmup, --valid-every, --checkpoint-every,"
                    + " --keep-checkpoints and --log-every must be at least 1");
        }
        if (clipNorm < 0 || !Float.isFinite(clipNorm)) {
            throw new BadInputException("--clip-norm must be 0 (off) or a positive number, got " + clipNorm);
        }
        if (validSentences < 0) {
            throw new BadInputException("--valid-sentences must be 0 (all) or more, got " + validSentences);
        }
        return new TrainingRecipe(steps, lr, warmup, labelSmoothing, seed, maxTokens, maxLen, validEvery,
                checkpointEvery, logEvery, keepCheckpoints, clipNorm);
    }
}
