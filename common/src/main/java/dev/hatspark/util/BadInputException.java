package dev.hatspark.util;

/**
 * Input the user can fix (a file, a field, an option) that is not what a job expects. Thrown only
 * where input is checked, with a one-line message naming the file or field and what was expected;
 * the CLI prints that line alone. Any other exception is a bug or an environment failure and is
 * printed with its stack trace.
 */
public class BadInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
