import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceKit

/// A service's database: a PostgresClient pool (run it as a lifecycle service) and the
/// one schema the service owns.
public struct Database: Sendable {
    public let client: PostgresClient
    public let schema: String
    public let logger: Logger

    public init(client: PostgresClient, schema: String, logger: Logger) {
        self.client = client
        self.schema = schema
        self.logger = logger
    }

    /// `postgres://user:password@host:port/database`.
    public init(url: String, schema: String, logger: Logger, maxConnections: Int = 20, tls: DatabaseTLS = .disable) throws {
        guard let parsed = URLComponents(string: url), let host = parsed.host, let user = parsed.user else {
            throw ConfigurationError(variable: "DATABASE_URL", problem: "must look like postgres://user:password@host:port/database")
        }
        let database = parsed.path.hasPrefix("/") ? String(parsed.path.dropFirst()) : parsed.path
        var configuration = PostgresClient.Configuration(
            host: host, port: parsed.port ?? 5432, username: user,
            password: parsed.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: try Self.tls(tls)
        )
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        // The pool arms an idle timer and a keep-alive timer each time a connection comes
        // back, and cancels them on the next lease; a cancelled timer's task is only freed at
        // its deadline (about 1 KB each). At thousands of queries a second the defaults (60 s
        // idle, 30 s keep-alive) held over 100 MB. A connection idle for 10 s closes instead,
        // which also makes keep-alive needless.
        configuration.options.connectionIdleTimeout = .seconds(10)
        configuration.options.keepAliveBehavior = nil
        self.init(client: PostgresClient(configuration: configuration, backgroundLogger: logger), schema: schema, logger: logger)
    }

    static func tls(_ mode: DatabaseTLS) throws -> PostgresClient.Configuration.TLS {
        try tlsConfiguration(mode).map { .require($0) } ?? .disable
    }

    /// The TLS settings `mode` asks for; nil for a connection in the clear.
    public static func tlsConfiguration(_ mode: DatabaseTLS) throws -> TLSConfiguration? {
        switch mode {
        case .disable:
            return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return tls
        case .verifyFull(let caFile):
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let caFile {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                } catch {
                    throw ConfigurationError(variable: "DATABASE_TLS_CA_FILE", problem: "holds no PEM certificate (\(error))")
                }
            }
            return tls
        }
    }

    /// Runs `body` in a transaction in which row-level security sees only `tenant`'s rows.
    /// `set_config(…, true)` is transaction-local, so the setting never leaks to the next
    /// user of the pooled connection (`SET LOCAL` cannot take a bound parameter).
    /// The caller's function names the transaction's span (see DatabaseSpan.swift).
    public func withTenant<T: Sendable>(
        _ tenant: UUID, function: String = #function, fileID: String = #fileID, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withStatementSpan(function: function, fileID: fileID) {
            try await transaction { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(tenant.uuidString), true)", logger: logger)
                return try await body(connection)
            }
        }
    }

    /// A transaction without a tenant: only for tables that are not tenant-owned.
    /// Errors thrown by `body` come out as they were thrown, not wrapped.
    public func withTransaction<T: Sendable>(
        function: String = #function, fileID: String = #fileID, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withStatementSpan(function: function, fileID: fileID) { try await transaction(body) }
    }

    /// One statement on its own (PostgresClient's `query`), in a span named for the caller.
    /// The span covers the statement up to its first rows; a long result streams after it.
    @discardableResult
    public func query(
        _ query: PostgresQuery, logger: Logger, function: String = #function, fileID: String = #fileID
    ) async throws -> PostgresRowSequence {
        try await withStatementSpan(function: function, fileID: fileID) { try await client.query(query, logger: logger) }
    }

    private func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// True when the database answers a trivial query within a second or two.
    public func isReachable() async -> Bool {
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await client.query("SELECT 1", logger: logger)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
        } catch {
            return false
        }
    }
}

extension Error {
    /// The SQLSTATE of a PostgreSQL error (e.g. `23505` unique violation), if this is one.
    public var sqlState: String? {
        if let error = self as? PSQLError { return error.serverInfo?[.sqlState] }
        if let error = self as? PostgresTransactionError {
            return (error.closureError ?? error.commitError ?? error.beginError)?.sqlState
        }
        return nil
    }

    /// The constraint a PostgreSQL error names, for mapping unique violations to fields.
    public var sqlConstraint: String? {
        if let error = self as? PSQLError { return error.serverInfo?[.constraintName] }
        if let error = self as? PostgresTransactionError { return (error.closureError ?? error.commitError)?.sqlConstraint }
        return nil
    }
}

public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
}
