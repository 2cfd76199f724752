import Foundation
import NIOSSL
import Persistence
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

/// DATABASE_TLS against the test PostgreSQL, which offers TLS with a self-signed
/// certificate for localhost and 127.0.0.1.
@Suite("database connections over TLS")
struct DatabaseTLSTests {
    /// Whether the session runs over TLS, as the server sees it.
    func encrypted(_ mode: DatabaseTLS, host: String = "127.0.0.1") async throws -> Bool {
        let url = "postgres://svc_tasks:svc_tasks@\(host):\(TestEnvironment.postgresPort)/platform"
        let database = try Database(url: url, schema: "tasks", logger: TestEnvironment.logger, maxConnections: 1, tls: mode)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let rows = try await database.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: database.logger)
            return try await rows.decode(Bool.self).first { _ in true } ?? false
        }
    }

    @Test("disable talks in the clear; require encrypts without checking the certificate")
    func disableAndRequire() async throws {
        #expect(try await encrypted(.disable) == false)
        #expect(try await encrypted(.require) == true)
    }

    @Test("verify-full refuses a certificate no trusted root signed, and accepts it with DATABASE_TLS_CA_FILE")
    func verifyFull() async throws {
        // One connection, not the pool (which would keep retrying): the handshake fails.
        let tls = try #require(try Database.tlsConfiguration(.verifyFull(caFile: nil)))
        let configuration = PostgresConnection.Configuration(
            host: "localhost", port: TestEnvironment.postgresPort, username: "svc_tasks", password: "svc_tasks", database: "platform",
            tls: .require(try NIOSSLContext(configuration: tls)))
        await #expect(throws: (any Error).self) {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: TestEnvironment.logger)
            try await connection.close()
        }
        #expect(try await encrypted(.verifyFull(caFile: TestEnvironment.postgresCertificate), host: "localhost") == true)
    }

    @Test("DATABASE_TLS takes disable, require and verify-full, and refuses anything else naming the variable")
    func configuration() throws {
        let base = ["DATABASE_URL": "postgres://a:b@127.0.0.1:5432/platform"]
        #expect(try ServiceConfiguration.fromEnvironment(name: "x", defaultPort: 1, Environment(base)).databaseTLS == .disable)
        var values = base
        values["DATABASE_TLS"] = "require"
        #expect(try ServiceConfiguration.fromEnvironment(name: "x", defaultPort: 1, Environment(values)).databaseTLS == .require)
        values["DATABASE_TLS"] = "verify-full"
        #expect(try ServiceConfiguration.fromEnvironment(name: "x", defaultPort: 1, Environment(values)).databaseTLS == .verifyFull(caFile: nil))
        values["DATABASE_TLS_CA_FILE"] = "/no/such/file.pem"
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.fromEnvironment(name: "x", defaultPort: 1, Environment(values)) }
        values["DATABASE_TLS"] = "sometimes"
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.fromEnvironment(name: "x", defaultPort: 1, Environment(values)) }
    }
}
