package dev.hatspark.util;

/** Formatting for progress lines of long work. */
public final class Progress {
    private Progress() {
    }

    /** Remaining time as "4m05s", or "1h02m" past an hour. */
    public static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
