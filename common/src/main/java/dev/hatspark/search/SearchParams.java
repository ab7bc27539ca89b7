package dev.hatspark.search;

import dev.hatspark.util.BadInputException;
import java.io.Serializable;

/** HAT's evolutionary-search settings (defaults from the paper) plus the seed. */
public record SearchParams(int population, int parents, int mutations, int crossovers, double mutationProb,
                           int generations, long seed) implements Serializable {

    public SearchParams {
        if (parents < 1 || mutations < 0 || crossovers < 0 || generations < 1 || population < parents
                || parents + mutations + crossovers != population) {
            throw new BadInputException("search needs parents >= 1, generations >= 1 and population = parents"
                    + " + mutations + crossovers; got population " + population + ", parents " + parents
                    + ", mutations " + mutations + ", crossovers " + crossovers + ", generations " + generations);
        }
        if (mutationProb < 0 || mutationProb > 1) {
            throw new BadInputException("mutation probability must be in [0, 1], got " + mutationProb);
        }
    }

    public static SearchParams hat(long seed) {
        return new SearchParams(125, 25, 50, 50, 0.3, 30, seed);
    }
}
