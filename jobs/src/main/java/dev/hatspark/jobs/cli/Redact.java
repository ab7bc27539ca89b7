package dev.hatspark.jobs.cli;

import java.util.regex.Pattern;

/** Masks credentials before anything is logged or stored: keys that look like a secret keep their name, lose their value. */
public final class Redact {
    // the same idea as Spark's spark.redaction.regex, widened to the S3A and token names we see in profiles
    private static final Pattern SECRET = Pattern.compile("(?i).*(secret|password|passwd|token|credential|access[._-]?key|session[._-]?key).*");

    private Redact() {
    }

    public static boolean isSecret(String key) {
        return SECRET.matcher(key).matches();
    }

    public static String value(String key, String value) {
        return isSecret(key) ? "*****(redacted)" : value;
    }
}
