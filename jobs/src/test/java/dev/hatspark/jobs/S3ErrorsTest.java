package dev.hatspark.jobs;

import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S3 refusing a request (403 for wrong credentials, 404 for a bucket that does not exist) ends the job
 * in one line naming bucket and key, with neither the secret nor the access key id in it. The S3
 * server is S3Proxy in this JVM (as in {@link S3PipelineTest}); the settings are per bucket, so the
 * test's buckets leave the shared Spark session's other s3a settings alone.
 */
class S3ErrorsTest {
    static final String ACCESS = "errors-access-" + UUID.randomUUID();
    static final String SECRET = "errors-secret-" + UUID.randomUUID();
    static final String WRONG_SECRET = "wrong-secret-" + UUID.randomUUID();
    static final List<String> BUCKETS = List.of("hat-denied", "hat-no-such-bucket");
    static S3Proxy proxy;
    static BlobStoreContext store;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        store = ContextBuilder.newBuilder("transient").credentials(ACCESS, SECRET).buildView(BlobStoreContext.class);
        store.getBlobStore().createContainerInLocation(null, "hat-denied");
        store.getBlobStore().putBlob("hat-denied", store.getBlobStore().blobBuilder("in/corpus.tsv")
                .payload("ref\tsrc\ttgt\na\tb\tc\n".getBytes(StandardCharsets.UTF_8)).build());
        proxy = S3PipelineTest.startProxy(store, ACCESS, SECRET);
        spark = SmallRun.spark();
        var conf = spark.sparkContext().hadoopConfiguration();
        for (String bucket : BUCKETS) {
            String b = "fs.s3a.bucket." + bucket + ".";
            conf.set(b + "endpoint", "http://127.0.0.1:" + proxy.getPort());
            conf.set(b + "endpoint.region", "us-east-1");
            conf.set(b + "path.style.access", "true");
            conf.set(b + "connection.ssl.enabled", "false");
            conf.set(b + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
            conf.set(b + "access.key", ACCESS);
            conf.set(b + "secret.key", bucket.equals("hat-denied") ? WRONG_SECRET : SECRET);
            conf.set(b + "attempts.maximum", "1");
            conf.set(b + "retry.limit", "1");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        var conf = spark.sparkContext().hadoopConfiguration();
        for (String bucket : BUCKETS) {
            for (String k : List.of("endpoint", "endpoint.region", "path.style.access", "connection.ssl.enabled",
                    "aws.credentials.provider", "access.key", "secret.key", "attempts.maximum", "retry.limit")) {
                conf.unset("fs.s3a.bucket." + bucket + "." + k);
            }
        }
        org.apache.hadoop.fs.FileSystem.closeAll(); // cached s3a clients of these buckets point at this proxy
        proxy.stop();
        store.close();
    }

    @Test
    void wrongCredentialsNameBucketAndKeyInOneLine() {
        String err = stderr("prepare-corpus", "--root", "target/s3-errors-run", "--input", "s3a://hat-denied/in/corpus.tsv");
        assertEquals("hat prepare-corpus: error: s3a://hat-denied/in/corpus.tsv (bucket 'hat-denied', key 'in/corpus.tsv'):"
                + " access denied (HTTP 403 on S3); check the credentials (AWS_ACCESS_KEY_ID / fs.s3a.access.key) and the"
                + " bucket's policy", err.strip());
        assertFalse(err.contains(WRONG_SECRET) || err.contains(ACCESS) || err.contains(SECRET), err);
    }

    @Test
    void aBucketThatDoesNotExistIsNamedInOneLine() {
        String err = stderr("eval-subnet", "--root", "s3a://hat-no-such-bucket/runs/a", "--largest");
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.startsWith("hat eval-subnet: error: s3a://hat-no-such-bucket/") && err.contains("bucket 'hat-no-such-bucket'")
                && err.contains("the bucket does not exist (HTTP 404)"), err);
        assertFalse(err.contains(ACCESS) || err.contains(SECRET), err);
    }

    private static String stderr(String... args) {
        BadInputMatrixTest.Run r = BadInputMatrixTest.captured(args);
        String all = r.stderr();
        assertEquals(1, r.exit(), all);
        assertFalse(all.contains("\tat "), all);
        return all;
    }
}
