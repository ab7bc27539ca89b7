package dev.hatspark.util;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Content ids: short SHA-256 prefixes that name exactly some bytes (weights, a validation set, a vocabulary). */
public final class Ids {
    private Ids() {
    }

    /** The first 6 bytes of SHA-256, as 12 hex digits: enough to tell apart the contents one run root holds. */
    public static String sha(byte[] data) {
        return HexFormat.of().formatHex(digest().digest(data), 0, 6);
    }

    /** {@link #sha} of a list of token-id pairs, in order (a validation set's content). */
    public static String shaOfPairs(List<int[][]> pairs) {
        MessageDigest d = digest();
        ByteBuffer b = ByteBuffer.allocate(4);
        for (int[][] p : pairs) {
            for (int[] side : p) {
                d.update(b.clear().putInt(side.length).array());
                for (int id : side) {
                    d.update(b.clear().putInt(id).array());
                }
            }
        }
        return HexFormat.of().formatHex(d.digest(), 0, 6);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
