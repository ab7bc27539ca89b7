package dev.hatspark.search;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ParetoTest {
    static Pareto.Point p(double ms, double loss, String id) {
        return new Pareto.Point(ms, loss, id);
    }

    @Test
    void keepsOnlyNonDominatedPointsByLatency() {
        List<Pareto.Point> front = Pareto.front(List.of(p(30, 4.0, "c"), p(10, 5.0, "a"), p(20, 5.5, "dominated"),
                p(20, 4.5, "b"), p(40, 4.0, "slower-same-loss"), p(50, 3.0, "d")));
        assertEquals(List.of("a", "b", "c", "d"), front.stream().map(Pareto.Point::id).toList());
    }

    @Test
    void frontIsIndependentOfInputOrderAndDominatesEveryOtherPoint() {
        Random r = new Random(7);
        List<Pareto.Point> pts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            pts.add(p(r.nextInt(50), r.nextInt(30) / 10.0, "x" + i));
        }
        List<Pareto.Point> front = Pareto.front(pts);
        Collections.shuffle(pts, r);
        assertEquals(front, Pareto.front(pts));
        for (Pareto.Point q : pts) {
            boolean onFront = front.contains(q);
            boolean dominated = front.stream().anyMatch(f -> f != q && f.latencyMs() <= q.latencyMs() && f.loss() <= q.loss());
            assertTrue(onFront || dominated, q + " is neither on the front nor dominated by it");
        }
        for (int i = 1; i < front.size(); i++) {
            assertTrue(front.get(i).latencyMs() > front.get(i - 1).latencyMs() && front.get(i).loss() < front.get(i - 1).loss());
        }
    }

    @Test
    void emptyInputGivesEmptyFront() {
        assertTrue(Pareto.front(List.of()).isEmpty());
    }
}
