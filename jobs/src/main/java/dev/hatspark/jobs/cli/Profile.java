package dev.hatspark.jobs.cli;

import dev.hatspark.util.BadInputException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A run profile: one YAML file (any Hadoop path, so {@code s3a://} works on EMR) holding job options and Spark settings,
 * plus {@code key=value} overrides from the command line. Precedence, highest first: an explicit {@code --option},
 * a {@code job.option=} or {@code option=} override, the file's section of the job, the file's top level, the built-in
 * default. Keys are option long names without dashes; {@code spark.*} keys go to the Spark session.
 */
public final class Profile implements CommandLine.IDefaultValueProvider {
    private static final Pattern OVERRIDE = Pattern.compile("[A-Za-z][\\w.-]*=.*", Pattern.DOTALL);

    /** Where a setting came from (for error messages) and its layer: command-line overrides beat the file. */
    private record Setting(String value, String origin, boolean override) {
    }

    private final Map<String, Setting> jobOptions = new LinkedHashMap<>(); // "job.option" -> value
    private final Map<String, Setting> options = new LinkedHashMap<>();    // "option" (any job) -> value
    private final Map<String, String> spark = new LinkedHashMap<>();
    private final List<String> args;
    private final String file;

    private Profile(String file, List<String> args) {
        this.file = file;
        this.args = args;
    }

    /** Splits {@code --profile FILE} and {@code key=value} tokens off the command line. */
    public static Profile parse(String... argv) {
        String file = null;
        List<String> rest = new ArrayList<>();
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--profile")) {
                if (i + 1 >= argv.length) {
                    throw new BadInputException("--profile needs a file (YAML, any Hadoop path)");
                }
                file = argv[++i];
            } else if (a.startsWith("--profile=")) {
                file = a.substring("--profile=".length());
            } else if (OVERRIDE.matcher(a).matches()) {
                overrides.add(a);
            } else {
                rest.add(a);
            }
        }
        Profile p = new Profile(file, rest);
        if (file != null) {
            p.load(file);
        }
        for (String o : overrides) {
            int eq = o.indexOf('=');
            p.put(o.substring(0, eq), o.substring(eq + 1), "override '" + o.substring(0, eq) + "'", true);
        }
        return p;
    }

    /** The command line without the profile's tokens. */
    public String[] args() {
        return args.toArray(String[]::new);
    }

    /** Spark and Hadoop ({@code spark.hadoop.*}) settings, for the session when this process creates it. */
    public Map<String, String> sparkSettings() {
        return spark;
    }

    private void load(String path) {
        JsonNode root;
        try (InputStream in = new Path(path).getFileSystem(new Configuration()).open(new Path(path))) {
            root = new ObjectMapper(new YAMLFactory()).readTree(in);
        } catch (IOException e) {
            throw new BadInputException("profile " + path + ": cannot read it (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException("profile " + path + ": expected a YAML mapping of options, 'spark' and job sections");
        }
        root.fields().forEachRemaining(e -> {
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                // a section: 'spark' (settings) or a job's options
                v.fields().forEachRemaining(s -> put(key.equals("spark") ? s.getKey() : key + "." + s.getKey(),
                        scalar(path, key + "." + s.getKey(), s.getValue()), "profile " + path + ": " + key + "." + s.getKey(), false));
            } else {
                put(key, scalar(path, key, v), "profile " + path + ": " + key, false);
            }
        });
    }

    private static String scalar(String path, String key, JsonNode v) {
        if (v.isArray()) {
            StringJoiner j = new StringJoiner(",");
            v.forEach(x -> j.add(scalar(path, key, x)));
            return j.toString();
        }
        if (v.isContainerNode()) {
            throw new BadInputException("profile " + path + ": " + key + " expected a value or a list, got a mapping");
        }
        return v.asText();
    }

    private void put(String key, String value, String origin, boolean override) {
        if (key.startsWith("spark.")) {
            spark.put(key, value);
        } else if (key.contains(".")) {
            jobOptions.put(key, new Setting(value, origin, override));
        } else {
            options.put(key, new Setting(value, origin, override));
        }
    }

    /**
     * Checks every setting against the jobs' options, so a typo fails before any work starts.
     * {@code job.option} must name an option of that job; a bare {@code option} must belong to at least one job.
     */
    public void validate(CommandLine root) {
        Map<String, CommandLine> jobs = root.getSubcommands();
        jobOptions.forEach((key, s) -> {
            int dot = key.indexOf('.');
            String job = key.substring(0, dot);
            String opt = key.substring(dot + 1);
            CommandLine cmd = jobs.get(job);
            if (cmd == null) {
                throw new BadInputException(s.origin() + ": no job '" + job + "' (jobs: " + new TreeSet<>(jobs.keySet()) + ")");
            }
            if (cmd.getCommandSpec().findOption("--" + opt) == null) {
                throw new BadInputException(s.origin() + ": job " + job + " has no option --" + opt);
            }
        });
        options.forEach((opt, s) -> {
            boolean known = jobs.values().stream().anyMatch(c -> c.getCommandSpec().findOption("--" + opt) != null);
            if (!known) {
                throw new BadInputException(s.origin() + ": no job has an option --" + opt);
            }
        });
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || !o.longestName().startsWith("--")) {
            return null;
        }
        String name = o.longestName().substring(2);
        CommandSpec cmd = o.command();
        Setting job = cmd == null ? null : jobOptions.get(cmd.name() + "." + name);
        Setting any = options.get(name);
        if (job == null || (any != null && any.override() && !job.override())) {
            job = any; // within a layer the job's own setting wins; an override beats anything from the file
        }
        return job == null ? null : job.value();
    }

    /** The settings in effect, secrets masked: safe to log. */
    public String describe() {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        options.forEach((k, s) -> j.add(k + "=" + Redact.value(k, s.value())));
        jobOptions.forEach((k, s) -> j.add(k + "=" + Redact.value(k, s.value())));
        spark.forEach((k, v) -> j.add(k + "=" + Redact.value(k, v)));
        return (file == null ? "overrides " : "profile " + file + " ") + j;
    }

    public boolean isEmpty() {
        return file == null && options.isEmpty() && jobOptions.isEmpty() && spark.isEmpty();
    }
}
