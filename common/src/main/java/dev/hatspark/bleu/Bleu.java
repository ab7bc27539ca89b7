package dev.hatspark.bleu;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU computed the way sacreBLEU 2.x computes it by default ({@code BLEU()}: 13a tokenization,
 * mixed case, n-grams up to 4, one reference per segment): each hypothesis n-gram count is clipped to
 * its count in the reference, counts and lengths are summed over the corpus, the brevity penalty is
 * exp(1 - ref_len / hyp_len) when the hypotheses are shorter, and the score is the geometric mean of
 * the four precisions times the penalty, in 0..100.
 *
 * <p>Zero counts follow sacreBLEU's default smoothing "exp" (mteval's): with no match at all the score
 * is 0; an order with matched n-grams 0 (but some proposed) gets precision 1 / (2^k · total), k
 * counting such orders; an order with no hypothesis n-grams at all makes the score 0.
 */
public final class Bleu {
    public static final int MAX_ORDER = 4;

    private Bleu() {
    }

    /** BLEU's sufficient statistics; they add up over segments and shards. */
    public record Stats(long hypLen, long refLen, long[] correct, long[] total) implements Serializable {
        public static Stats zero() {
            return new Stats(0, 0, new long[MAX_ORDER], new long[MAX_ORDER]);
        }

        public Stats plus(Stats o) {
            long[] c = correct.clone();
            long[] t = total.clone();
            for (int n = 0; n < MAX_ORDER; n++) {
                c[n] += o.correct[n];
                t[n] += o.total[n];
            }
            return new Stats(hypLen + o.hypLen, refLen + o.refLen, c, t);
        }

        @Override
        public String toString() {
            return "Stats[hyp=" + hypLen + ", ref=" + refLen + ", correct=" + Arrays.toString(correct)
                    + ", total=" + Arrays.toString(total) + "]";
        }
    }

    /** A score with what it was computed from (precisions in percent, as sacreBLEU prints them). */
    public record Score(double bleu, double[] precisions, double brevityPenalty, Stats stats) implements Serializable {
        @Override
        public String toString() {
            StringBuilder p = new StringBuilder();
            for (double x : precisions) {
                p.append(p.length() == 0 ? "" : "/").append(String.format("%.1f", x));
            }
            return String.format("BLEU = %.2f %s (BP = %.3f hyp_len = %d ref_len = %d)", bleu, p, brevityPenalty,
                    stats.hypLen(), stats.refLen());
        }
    }

    /** Corpus BLEU of detokenized hypotheses against one detokenized reference each. */
    /**
     * How a BLEU figure was made, sacreBLEU-style (one reference, mixed case, 13a tokenization,
     * exponential smoothing), plus the decoding that produced the hypotheses.
     */
    public static String signature(int beam, double lengthPenalty, int sentences) {
        return "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|beam:" + beam + "|lenpen:" + (float) lengthPenalty
                + "|sentences:" + sentences;
    }

    public static Score corpus(List<String> hypotheses, List<String> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException("BLEU needs one reference per hypothesis: got " + hypotheses.size()
                    + " hypotheses and " + references.size() + " references");
        }
        Stats s = Stats.zero();
        for (int i = 0; i < hypotheses.size(); i++) {
            s = s.plus(segment(hypotheses.get(i), references.get(i)));
        }
        return score(s);
    }

    /**
     * How a tokenized BLEU figure was made (HAT's, fairseq's): hypotheses and references already
     * tokenized, split at whitespace only, subword-nmt BPE removed; {@code compoundSplit} when
     * {@link #compoundSplit(String)} was applied to both (HAT's En-De figures).
     */
    public static String signatureTokenized(int beam, double lengthPenalty, int sentences, boolean compoundSplit) {
        return "nrefs:1|case:mixed|eff:no|tok:none|remove-bpe" + (compoundSplit ? "|compound-split" : "")
                + "|smooth:exp|beam:" + beam + "|lenpen:" + (float) lengthPenalty + "|sentences:" + sentences;
    }

    /**
     * Corpus BLEU of already tokenized text (fairseq's and HAT's tokenized BLEU, as multi-bleu.perl):
     * tokens are what whitespace separates, no re-tokenization.
     */
    public static Score corpusTokenized(List<String> hypotheses, List<String> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException("BLEU needs one reference per hypothesis: got " + hypotheses.size()
                    + " hypotheses and " + references.size() + " references");
        }
        Stats s = Stats.zero();
        for (int i = 0; i < hypotheses.size(); i++) {
            s = s.plus(segment(whitespaceTokens(hypotheses.get(i)), whitespaceTokens(references.get(i))));
        }
        return score(s);
    }

    /**
     * fairseq's compound_split_bleu.sh ({@code perl -ple 's{(\S)-(\S)}{$1 ##AT##-##AT## $2}g'}): one
     * left-to-right pass, so "a-b-c" becomes "a ##AT##-##AT## b-c" there too.
     */
    public static String compoundSplit(String sentence) {
        return COMPOUND.matcher(sentence).replaceAll("$1 ##AT##-##AT## $2");
    }

    private static final java.util.regex.Pattern COMPOUND = java.util.regex.Pattern.compile("(\\S)-(\\S)");

    static List<String> whitespaceTokens(String s) {
        String t = s.strip();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    /** Statistics of one segment (both sides tokenized with 13a). */
    public static Stats segment(String hypothesis, String reference) {
        return segment(Tokenizer13a.tokens(hypothesis), Tokenizer13a.tokens(reference));
    }

    private static Stats segment(List<String> hyp, List<String> ref) {
        Map<List<String>, Integer> refCounts = ngrams(ref);
        long[] correct = new long[MAX_ORDER];
        long[] total = new long[MAX_ORDER];
        for (Map.Entry<List<String>, Integer> e : ngrams(hyp).entrySet()) {
            int n = e.getKey().size() - 1;
            total[n] += e.getValue();
            correct[n] += Math.min(e.getValue(), refCounts.getOrDefault(e.getKey(), 0));
        }
        return new Stats(hyp.size(), ref.size(), correct, total);
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int n = 1; n <= MAX_ORDER; n++) {
            for (int i = 0; i + n <= tokens.size(); i++) {
                counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** The score of summed statistics. */
    public static Score score(Stats s) {
        double bp = 1.0;
        if (s.hypLen() < s.refLen()) {
            bp = s.hypLen() > 0 ? Math.exp(1 - (double) s.refLen() / s.hypLen()) : 0.0;
        }
        double[] precisions = new double[MAX_ORDER];
        if (Arrays.stream(s.correct()).allMatch(c -> c == 0)) {
            return new Score(0.0, precisions, bp, s);
        }
        double smooth = 1;
        double logSum = 0;
        for (int n = 0; n < MAX_ORDER; n++) {
            if (s.total()[n] == 0) {
                return new Score(0.0, precisions, bp, s); // no n-grams of this order: sacreBLEU's log floor gives 0
            }
            if (s.correct()[n] == 0) {
                smooth *= 2;
                precisions[n] = 100.0 / (smooth * s.total()[n]);
            } else {
                precisions[n] = 100.0 * s.correct()[n] / s.total()[n];
            }
            logSum += Math.log(precisions[n]);
        }
        return new Score(bp * Math.exp(logSum / MAX_ORDER), precisions, bp, s);
    }
}
