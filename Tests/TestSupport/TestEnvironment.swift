import Foundation
import Logging
import Persistence
import ServiceKit

/// Where the test PostgreSQL and broker are: `make test` starts them and passes the
/// addresses; the defaults match `STACK=test` in infra/dev/env.sh.
public enum TestEnvironment {
    static let env = ProcessInfo.processInfo.environment
    public static let postgresPort = Int(env["PLATFORM_TEST_PG_PORT"] ?? "") ?? 25433
    /// The test PostgreSQL's self-signed certificate (infra/dev/postgres.sh makes it).
    public static let postgresCertificate = env["PLATFORM_TEST_PG_CA"] ?? root.appendingPathComponent(".dev/test/postgres/server.crt").path
    public static let kafkaBrokers = env["PLATFORM_TEST_KAFKA"] ?? "127.0.0.1:29092"
    /// The local OpenID provider (oidc-provider-mock) that social-login tests sign in at.
    public static let oidcIssuer = env["PLATFORM_TEST_OIDC"] ?? "http://127.0.0.1:29400"
    /// The local SMTP server (aiosmtpd) and the Maildir it delivers to.
    public static let smtpURL = env["PLATFORM_TEST_SMTP"] ?? "smtp://127.0.0.1:22525"
    public static let maildir = env["PLATFORM_TEST_MAILDIR"] ?? root.appendingPathComponent(".dev/test/mail").path
    /// The local relay (infra/dev/smtp_relay.py: STARTTLS, AUTH relay/relay-dev, PIPELINING);
    /// its folder holds the certificate it presents and the Maildir (`mail`) it delivers to.
    public static let smtpRelayURL = env["PLATFORM_TEST_SMTP_RELAY"] ?? "smtp://127.0.0.1:22587"
    public static let smtpRelayFolder = env["PLATFORM_TEST_SMTP_RELAY_DIR"] ?? root.appendingPathComponent(".dev/test/smtp-relay").path
    public static let issuer = "http://test.platform.local"
    public static let audience = "platform"

    /// The repository root, for scripts under infra/.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func databaseURL(role service: String) -> String {
        "postgres://svc_\(service):svc_\(service)@127.0.0.1:\(postgresPort)/platform"
    }

    public static func configuration(
        _ service: String, jwksURL: String = "http://127.0.0.1:1/none", kafka: String = kafkaBrokers
    ) -> ServiceConfiguration {
        Observability.bootstrapLogging(level: env["TEST_LOG_LEVEL"] ?? "error")
        return ServiceConfiguration(
            name: service, port: 0, databaseURL: databaseURL(role: service), kafkaBrokers: kafka, jwksURL: jwksURL,
            tokenIssuer: issuer, tokenAudience: audience, logLevel: env["TEST_LOG_LEVEL"] ?? "error")
    }

    public static var logger: Logger {
        Observability.bootstrapLogging(level: env["TEST_LOG_LEVEL"] ?? "error")
        return Logger(label: "test")
    }

    /// A database handle for a service's role; run `client.run()` while using it (see `withDatabase`).
    public static func database(_ service: String) throws -> Database {
        try Database(url: databaseURL(role: service), schema: service, logger: logger, maxConnections: 4)
    }
}

/// Runs `body` with a connected database of `service`'s role.
public func withDatabase<T: Sendable>(_ service: String, _ body: @Sendable (Database) async throws -> T) async throws -> T {
    let database = try TestEnvironment.database(service)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        return try await body(database)
    }
}

/// Polls `condition` until it holds or `timeout` passes; for effects that travel through Kafka.
public func eventually(timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
