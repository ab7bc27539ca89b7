package dev.hatspark.corpus;

import dev.hatspark.util.BadInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic train/valid/test assignment from a hash of a record's reference (e.g. "Genesis 1:1"):
 * a ref's split depends only on the ref and the fractions, never on which other refs exist or their
 * order. Raising testFraction only adds refs to test (the test range is a prefix of [0,1)).
 */
public final class Splits {

    public static final String TRAIN = "train";
    public static final String VALID = "valid";
    public static final String TEST = "test";

    private Splits() {
    }

    /** @return "test" for hash in [0,test), "valid" for [test,test+valid), else "train" */
    public static String splitOf(String ref, double validFraction, double testFraction) {
        check("validFraction", validFraction);
        check("testFraction", testFraction);
        double u = unitHash(ref);
        if (u < testFraction) {
            return TEST;
        }
        return u < testFraction + validFraction ? VALID : TRAIN;
    }

    /** First 8 bytes of SHA-256(UTF-8 ref) as an unsigned fraction in [0,1). */
    static double unitHash(String ref) {
        byte[] h = sha256().digest(ref.getBytes(StandardCharsets.UTF_8));
        long x = 0;
        for (int i = 0; i < 8; i++) {
            x = (x << 8) | (h[i] & 0xff);
        }
        return (x >>> 11) * 0x1.0p-53; // top 53 bits: exact in a double, strictly below 1
    }

    private static void check(String name, double f) {
        if (!(f >= 0 && f <= 0.5)) { // also rejects NaN
            throw new BadInputException(name + " must be in [0, 0.5], got " + f);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e); // mandatory in every JRE
        }
    }
}
