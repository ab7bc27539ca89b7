package dev.hatspark.jobs.search;

import dev.hatspark.search.Racing;
import dev.hatspark.util.BadInputException;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The sweep's racing knobs ({@link Racing}) and the parsing of {@code --budgets MS,...|auto:N}. */
public final class RacingOptions {
    @Option(names = "--racing", description = "on: score new candidates on a validation subset first and evaluate in full"
            + " only those that could still become parents; off: every candidate on the whole set (HAT). Default: ${DEFAULT-VALUE}")
    public String mode = "on";

    @Option(names = "--racing-fraction", split = ",", paramLabel = "F[,F...]", description = "Shares of the validation"
            + " sentences the racing stages score (ascending; nested subsets, each stage racing again the candidates the one"
            + " before promoted). Default: 0.1,0.25,0.5")
    public double[] fractions = Racing.Params.DEFAULT.fractions();

    @Option(names = "--racing-min-sentences", description = "The first racing stage's size at least. Default: ${DEFAULT-VALUE}")
    public int minSentences = Racing.Params.DEFAULT.minSentences();

    @Option(names = "--racing-k", description = "Margin in standard errors of the paired subset difference: a candidate is"
            + " dropped from the race when its loss on the stage's sentences exceeds, by more than k SE, that of the config holding the last"
            + " parent slot of its budget's parent pool (and of its budget's best, for the winner race). Default: ${DEFAULT-VALUE}")
    public double k = Racing.Params.DEFAULT.k();

    @Option(names = "--racing-delta", description = "Indifference zone in nats: a candidate that does not hold a parent slot is"
            + " raced on only if it could beat the slot's holder by at least this much (0: the exact rule; a positive value"
            + " spends fewer full evaluations on candidates about level with the parents). Default: ${DEFAULT-VALUE}")
    public double delta = Racing.Params.DEFAULT.delta();

    @Option(names = "--racing-rule", description = "3: differences estimated through the mean of each side's fully"
            + " evaluated parents, the parent pool ranked on the whole set's scale; 2: through the parents giving the smallest"
            + " standard error, the pool ranked by subset loss; both with finite-population standard errors and a last"
            + " generation that races only for each budget's winner; 1: the paired difference to the slot's holder. Sweeps"
            + " started with an earlier default rule and stages resume with them. Default: ${DEFAULT-VALUE}")
    public int rule = Racing.Params.DEFAULT.rule();

    /** The racing parameters, or null when candidates are evaluated in full (off, or random search: a baseline). */
    public Racing.Params params(boolean random) {
        if (!mode.equals("on") && !mode.equals("off")) {
            throw new BadInputException("--racing must be on or off, got '" + mode + "'");
        }
        return mode.equals("off") || random ? null : new Racing.Params(fractions, minSentences, k, delta, Racing.Params.DEFAULT.seed(), rule);
    }

    /**
     * The racing parameters a sweep being resumed with these options may have started with: these first, then, where
     * the rule is the default, the earlier default rules 2 and 1, and, where the stages are the default too, those rules
     * with the stages that were the default before rule 3. Null alone when not racing.
     */
    List<Racing.Params> accepted(boolean random) {
        Racing.Params p = params(random);
        List<Racing.Params> out = new ArrayList<>(Collections.singletonList(p));
        if (p != null && rule == Racing.Params.DEFAULT.rule()) {
            List<double[]> stages = new ArrayList<>(List.of(p.fractions()));
            if (Arrays.equals(p.fractions(), Racing.Params.DEFAULT.fractions())) {
                stages.add(Racing.Params.rule2Fractions());
            }
            for (double[] f : stages) {
                for (int r : new int[] {2, 1}) {
                    out.add(new Racing.Params(f, p.minSentences(), p.k(), p.delta(), p.seed(), r));
                }
            }
        }
        return out;
    }

    /** Races from now on with {@code p}'s rule and stages (those a resumed sweep started with). */
    void use(Racing.Params p) {
        if (p != null) {
            rule = p.rule();
            fractions = p.fractions();
        }
    }

    /** What the runs table records of racing parameters {@code p} (null: not racing): a resumed sweep must race with the same knobs. */
    static Map<String, Object> describe(Racing.Params p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", p == null ? "off" : "on");
        if (p != null) {
            if (p.fractions().length == 1) {
                m.put("fraction", p.fraction()); // as single-stage sweeps recorded it, so they resume
            } else {
                m.put("fractions", p.fractions());
            }
            m.put("min_sentences", p.minSentences());
            m.put("k", p.k());
            if (p.delta() > 0) {
                m.put("delta", p.delta()); // recorded only when set, so sweeps started before it resume
            }
            m.put("seed", p.seed());
            if (p.rule() != 1) {
                m.put("rule", p.rule()); // recorded from rule 2 on, so sweeps started before it resume with rule 1
            }
        }
        return m;
    }

    /** N of {@code --budgets auto:N}, or null when the budgets are milliseconds. */
    static Integer autoBudgets(String[] spec) {
        if (spec.length != 1 || !spec[0].trim().startsWith("auto:")) {
            return null;
        }
        String n = spec[0].trim().substring(5);
        try {
            return Integer.parseInt(n);
        } catch (NumberFormatException e) {
            throw new BadInputException("--budgets auto:N needs a whole number N, got '" + n + "'");
        }
    }

    /** {@code --budgets} in milliseconds. */
    static double[] budgets(String[] spec) {
        double[] out = new double[spec.length];
        for (int i = 0; i < spec.length; i++) {
            try {
                out[i] = Double.parseDouble(spec[i].trim());
            } catch (NumberFormatException e) {
                throw new BadInputException("--budgets expects latencies in ms or auto:N, got '" + spec[i] + "'");
            }
        }
        return out;
    }
}
