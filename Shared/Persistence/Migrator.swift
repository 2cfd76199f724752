import Crypto
import Foundation
import Logging
import PostgresNIO

/// One SQL migration file: `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: String
    public let sql: String

    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public init(version: String, sql: String) {
        self.version = version
        self.sql = sql
    }

    /// Loads `*.sql` from a folder (a service's bundled `Migrations` resource), sorted by name.
    public static func load(from folder: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { Migration(version: $0.deletingPathExtension().lastPathComponent, sql: try String(contentsOf: $0, encoding: .utf8)) }
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    case checksumChanged(version: String)
    case failed(version: String, message: String)

    public var description: String {
        switch self {
        case .checksumChanged(let version):
            "migration \(version) was changed after it was applied; add a new migration instead of editing an applied one"
        case .failed(let version, let message):
            "migration \(version) failed: \(message)"
        }
    }
}

/// Applies migrations in order, once, under an advisory lock so replicas starting
/// together do not race; refuses to start when an applied migration was edited.
public struct Migrator: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The platform's own tables (outbox, inbox) come before the service's migrations.
    public func migrate(_ serviceMigrations: [Migration]) async throws {
        let all = PlatformTables.migrations(schema: database.schema) + serviceMigrations
        let schema = database.schema
        let logger = database.logger
        try await database.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtext(\(schema + ".migrations")))", logger: logger)
            do {
                try await apply(all, on: connection)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext(\(schema + ".migrations")))", logger: logger)
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(hashtext(\(schema + ".migrations")))", logger: logger)
        }
    }

    /// The versions of `serviceMigrations` (and the platform's) not applied yet; throws when
    /// an applied one was edited. A replica that does not migrate waits for this to be empty.
    public func pending(_ serviceMigrations: [Migration]) async throws -> [String] {
        let all = PlatformTables.migrations(schema: database.schema) + serviceMigrations
        let exists =
            try await database.client.query(
                "SELECT to_regclass(\(database.schema + ".schema_migrations")) IS NOT NULL", logger: database.logger
            ).decode(Bool.self).first { _ in true } ?? false
        guard exists else { return all.map(\.version) }
        var applied: [String: String] = [:]
        let rows = try await database.client.query(
            "SELECT version, checksum FROM \(unescaped: database.schema).schema_migrations", logger: database.logger)
        for try await (version, checksum) in rows.decode((String, String).self) { applied[version] = checksum }
        for migration in all {
            if let checksum = applied[migration.version], checksum != migration.checksum {
                throw MigrationError.checksumChanged(version: migration.version)
            }
        }
        return all.filter { applied[$0.version] == nil }.map(\.version)
    }

    func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws {
        let schema = database.schema
        let logger = database.logger
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: schema).schema_migrations (
              version text PRIMARY KEY,
              checksum text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var applied: [String: String] = [:]
        for try await (version, checksum) in try await connection.query(
            "SELECT version, checksum FROM \(unescaped: schema).schema_migrations", logger: logger
        ).decode((String, String).self) {
            applied[version] = checksum
        }
        for migration in migrations {
            if let checksum = applied[migration.version] {
                guard checksum == migration.checksum else { throw MigrationError.checksumChanged(version: migration.version) }
                continue
            }
            // Statement by statement in one transaction, recorded in the same transaction.
            do {
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SET LOCAL search_path TO \(unescaped: schema)", logger: logger)
                for statement in SQLScript.statements(migration.sql) {
                    // Drain the rows: an error raised while a SELECT runs arrives with its rows.
                    for try await _ in try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) {}
                }
                try await connection.query(
                    "INSERT INTO \(unescaped: schema).schema_migrations (version, checksum) VALUES (\(migration.version), \(migration.checksum))",
                    logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                let message = (error as? PSQLError)?.serverInfo?[.message] ?? "\(error)"
                throw MigrationError.failed(version: migration.version, message: message)
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "schema": "\(schema)"])
        }
    }
}
