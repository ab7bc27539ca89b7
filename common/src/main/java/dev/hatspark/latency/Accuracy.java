package dev.hatspark.latency;

import java.io.Serializable;

/** How well predicted latencies match measured ones. */
public record Accuracy(long n, double rmseMs, double rmseRel, double mapd, double r2, double kendallTau)
        implements Serializable {

    public static Accuracy of(double[] measured, double[] predicted) {
        int n = measured.length;
        if (n == 0 || predicted.length != n) {
            throw new IllegalArgumentException("need equally many measured and predicted values, got " + n + " and " + predicted.length);
        }
        double mean = 0;
        for (double m : measured) {
            mean += m / n;
        }
        double se = 0, ape = 0, tot = 0;
        for (int i = 0; i < n; i++) {
            double d = predicted[i] - measured[i];
            se += d * d;
            ape += Math.abs(d) / Math.abs(measured[i]);
            tot += (measured[i] - mean) * (measured[i] - mean);
        }
        double rmse = Math.sqrt(se / n);
        return new Accuracy(n, rmse, rmse / mean, ape / n, tot == 0 ? Double.NaN : 1 - se / tot, kendallTau(measured, predicted));
    }

    /** Kendall's tau-b (ties in either ranking handled), O(n²): fine for test sets of a few thousand. */
    public static double kendallTau(double[] a, double[] b) {
        long concordant = 0, discordant = 0, tiesA = 0, tiesB = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = i + 1; j < a.length; j++) {
                double x = Math.signum(a[i] - a[j]);
                double y = Math.signum(b[i] - b[j]);
                if (x == 0 && y == 0) {
                    continue;
                } else if (x == 0) {
                    tiesA++;
                } else if (y == 0) {
                    tiesB++;
                } else if (x == y) {
                    concordant++;
                } else {
                    discordant++;
                }
            }
        }
        double denom = Math.sqrt((double) (concordant + discordant + tiesA) * (concordant + discordant + tiesB));
        return denom == 0 ? Double.NaN : (concordant - discordant) / denom;
    }
}
