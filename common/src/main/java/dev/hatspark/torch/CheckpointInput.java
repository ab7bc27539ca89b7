package dev.hatspark.torch;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The caller's stream, buffered (Pyrolite reads a byte at a time) and read strictly front to back:
 * nothing here seeks, skips or marks the caller's stream, so an s3a or HDFS stream works as is.
 * It remembers whether the input ran out, to tell truncation from other I/O errors.
 */
final class CheckpointInput extends FilterInputStream {
    final String source;
    private boolean ended;

    CheckpointInput(InputStream raw, String source) {
        super(new BufferedInputStream(raw, 1 << 16));
        this.source = source;
    }

    boolean ended() {
        return ended;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        ended |= b < 0;
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        ended |= n < 0;
        return n;
    }

    /** Up to {@code n} leading bytes, left unread (our buffer's mark, not the caller's). */
    byte[] peek(int n) throws IOException {
        in.mark(n);
        byte[] head = in.readNBytes(n);
        in.reset();
        return head;
    }

    void readFully(byte[] b, int off, int len, String what) throws IOException {
        int got = 0;
        while (got < len) {
            int n = read(b, off + got, len - got);
            if (n < 0) {
                throw TorchCheckpoint.badInput(source, "truncated: the input ended inside the " + what);
            }
            got += n;
        }
    }

    long readLongLE(String what) throws IOException {
        byte[] b = new byte[8];
        readFully(b, 0, 8, what);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }
}
