package dev.hatspark.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The latency/loss Pareto front: the candidates no other candidate beats on both at once. */
public final class Pareto {
    private Pareto() {
    }

    public record Point(double latencyMs, double loss, String id) {
    }

    /**
     * The non-dominated points, by increasing latency (and so strictly decreasing loss). Of equal
     * points the one with the smaller id is kept, so the front does not depend on input order.
     */
    public static List<Point> front(List<Point> points) {
        List<Point> sorted = new ArrayList<>(points);
        sorted.sort(Comparator.comparingDouble(Point::latencyMs).thenComparingDouble(Point::loss)
                .thenComparing(Point::id));
        List<Point> front = new ArrayList<>();
        double best = Double.POSITIVE_INFINITY;
        for (Point p : sorted) {
            if (p.loss() < best) {
                front.add(p);
                best = p.loss();
            }
        }
        return front;
    }
}
