import Foundation
import Persistence
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

/// A probe table of its own in the campaigns schema, under the platform's tenant policy
/// (the tasks table, used before, changes shape with the tasks service's migrations).
@Suite("tenant isolation in PostgreSQL")
struct RowLevelSecurityTests {
    static let migrations: [Migration] = [
        Migration(
            version: "test.0001_rls_probe",
            sql: """
                CREATE TABLE rls_probe (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, title text NOT NULL);
                SELECT enable_tenant_isolation('rls_probe');
                """)
    ]

    func insertTask(_ database: Database, tenant: UUID, title: String) async throws -> UUID {
        let id = UUID.v7()
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                "INSERT INTO campaigns.rls_probe (id, tenant_id, title) VALUES (\(id), \(tenant), \(title))",
                logger: database.logger)
        }
        return id
    }

    func count(_ database: Database, tenant: UUID?, id: UUID) async throws -> Int {
        let query: PostgresQuery = "SELECT count(*)::int FROM campaigns.rls_probe WHERE id = \(id)"
        if let tenant {
            return try await database.withTenant(tenant) { connection in
                try await connection.query(query, logger: database.logger).decode(Int.self).first { _ in true } ?? -1
            }
        }
        return try await database.client.query(query, logger: database.logger).decode(Int.self).first { _ in true } ?? -1
    }

    @Test("a row of tenant A is invisible inside withTenant(B), and without any tenant")
    func isolation() async throws {
        try await withDatabase("campaigns") { database in
            try await Migrator(database: database).migrate(Self.migrations)
            let a = UUID.v7()
            let b = UUID.v7()
            let id = try await insertTask(database, tenant: a, title: "secret plan")
            #expect(try await count(database, tenant: a, id: id) == 1)
            #expect(try await count(database, tenant: b, id: id) == 0)
            #expect(try await count(database, tenant: nil, id: id) == 0)
        }
    }

    @Test("a row cannot be written for another tenant than the current one")
    func writeCheck() async throws {
        try await withDatabase("campaigns") { database in
            try await Migrator(database: database).migrate(Self.migrations)
            await #expect(throws: (any Error).self) {
                try await database.withTenant(.v7()) { connection in
                    try await connection.query(
                        "INSERT INTO campaigns.rls_probe (id, tenant_id, title) VALUES (\(UUID.v7()), \(UUID.v7()), 'x')",
                        logger: database.logger)
                }
            }
        }
    }

    @Test("the tenant setting does not leak to the next use of a pooled connection")
    func noLeak() async throws {
        try await withDatabase("campaigns") { database in
            try await Migrator(database: database).migrate(Self.migrations)
            let tenant = UUID.v7()
            let id = try await insertTask(database, tenant: tenant, title: "pooled")
            for _ in 0..<10 {
                #expect(try await count(database, tenant: nil, id: id) == 0)
            }
        }
    }

    @Test("the tasks role cannot read the auth schema")
    func roleIsolation() async throws {
        try await withDatabase("auth") { auth in
            try await Migrator(database: auth).migrate([Migration(version: "0001_probe", sql: "CREATE TABLE IF NOT EXISTS probe (id int)")])
        }
        try await withDatabase("tasks") { tasks in
            await #expect(throws: (any Error).self) {
                try await tasks.client.query("SELECT count(*) FROM auth.probe", logger: tasks.logger)
            }
            let error = await #expect(throws: (any Error).self) {
                try await tasks.client.query("SELECT count(*) FROM auth.schema_migrations", logger: tasks.logger)
            }
            #expect(error?.sqlState == "42501")  // insufficient_privilege
        }
    }
}
