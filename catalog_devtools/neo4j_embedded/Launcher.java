import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Development/test-only Neo4j Community server: embedded, Bolt on loopback, no auth.
 *
 * <p>Usage: {@code java -cp '<lib>/*' Launcher.java <dataDir> <port>}. Started and stopped by
 * catalog_devtools/neo4j_embedded/__init__.py, which waits for the READY line on stdout.
 */
public final class Launcher {
    private static volatile DatabaseManagementService dbms;
    private static final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: Launcher <dataDir> <port>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);

        // SIGTERM/SIGINT and System.exit all run shutdown hooks: flush the store so a reused
        // data dir never needs recovery.
        Runtime.getRuntime().addShutdownHook(new Thread(Launcher::shutdown, "neo4j-shutdown"));
        watchStdin();

        dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.logs_directory, home.resolve("logs"))
                // Sized for a 2-core CI box running tests next to other processes; benchmarks on large
                // landscapes raise them with -Dcatalog.pagecache.mb=... and -Dcatalog.tx.mb=... in the JVM options.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(megabytes("catalog.pagecache.mb", 128)))
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size,
                        ByteUnit.mebiBytes(2 * megabytes("catalog.tx.mb", 128)))
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size, ByteUnit.mebiBytes(megabytes("catalog.tx.mb", 128)))
                // Throwaway data: don't write 250 MB of zeroed transaction log up front.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // No internet here; don't try to phone home.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Bolt shuts down after the databases have checkpointed, then by default waits
                // 2 x 5 s for idle event loops: pure delay for a throwaway test server.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(100))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofMillis(100))
                .build();

        // build() returns once the default database is up and Bolt is listening.
        if (!dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).isAvailable(60_000)) {
            System.err.println("NEO4J FAILED default database not available");
            System.exit(1);
        }
        System.out.println("NEO4J READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    /** A size in MiB from a -D system property, or the default; a malformed value stops the launcher. */
    private static long megabytes(String property, long fallback) {
        String value = System.getProperty(property);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            System.err.println("NEO4J FAILED -D" + property + " must be a whole number of MiB, got " + value);
            System.exit(2);
            return fallback;
        }
    }

    /** Stdin is a pipe from the Python parent: EOF means the parent is gone, so don't outlive it. */
    private static void watchStdin() {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Input is ignored; only EOF matters.
                }
            } catch (IOException ignored) {
                // A broken pipe means the same as EOF.
            }
            System.exit(0);
        }, "stdin-watch");
        t.setDaemon(true);
        t.start();
    }

    private static synchronized void shutdown() {
        DatabaseManagementService current = dbms;
        dbms = null;
        if (current != null) {
            current.shutdown();
            System.out.println("NEO4J STOPPED");
            System.out.flush();
        }
        stopped.countDown();
    }
}
