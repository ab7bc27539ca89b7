package dev.hatspark.jobs.cli;

import dev.hatspark.util.BadInputException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Marker;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.message.Message;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.filter.AbstractFilter;

/**
 * Keeps a bad input found inside a Spark task to the one line the CLI prints: Spark would also log
 * the task's failure with its stack trace (Executor, TaskSetManager) before the driver sees it. Only
 * events about a {@link BadInputException} are dropped, plus TaskSetManager's "aborting job" line,
 * which always precedes the failure reaching the driver (which prints it: one line or a full trace).
 */
public final class BadInputLogFilter extends AbstractFilter {
    private BadInputLogFilter() {
        super(Filter.Result.DENY, Filter.Result.NEUTRAL);
    }

    /** Installs the filter on this JVM's log4j2 configuration (driver and local executors), once. */
    public static synchronized void install() {
        if (!(LogManager.getContext(false) instanceof LoggerContext ctx)) {
            return; // another logging backend: nothing to filter
        }
        var config = ctx.getConfiguration();
        if (config.getFilter() instanceof BadInputLogFilter) {
            return;
        }
        if (config.hasFilter()) {
            return; // a user's own configuration filter: leave it alone
        }
        BadInputLogFilter filter = new BadInputLogFilter();
        filter.start();
        config.addFilter(filter);
        ctx.updateLoggers();
    }

    @Override
    public Result filter(LogEvent event) {
        return filter(event.getLoggerName(), event.getMessage() == null ? "" : event.getMessage().getFormattedMessage(),
                event.getThrown());
    }

    // a configuration filter is asked before the event is built, through these (SLF4J's calls land here)
    @Override
    public Result filter(Logger logger, Level level, Marker marker, Message msg, Throwable t) {
        return filter(logger.getName(), msg == null ? "" : msg.getFormattedMessage(), t);
    }

    @Override
    public Result filter(Logger logger, Level level, Marker marker, Object msg, Throwable t) {
        return filter(logger.getName(), String.valueOf(msg), t);
    }

    @Override
    public Result filter(Logger logger, Level level, Marker marker, String msg, Object... params) {
        Throwable t = params != null && params.length > 0 && params[params.length - 1] instanceof Throwable last ? last : null;
        return filter(logger.getName(), String.valueOf(msg), t);
    }

    private Result filter(String loggerName, String message, Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof BadInputException) {
                return onMatch;
            }
        }
        if (message.contains(BadInputException.class.getName())
                || loggerName.endsWith("TaskSetManager") && message.endsWith("; aborting job")) {
            return onMatch;
        }
        return onMismatch;
    }
}
