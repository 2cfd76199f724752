import ArgumentParser
import Foundation
import Jobs
import Messaging
import Persistence
import ServiceKit
import TestSupport
import Testing

/// A service of the test stack's photoml schema (no service owns it in tests) with one
/// migration of its own.
enum ProbeProgram: ServiceProgram {
    static let name = "photoml"
    static func migrations() throws -> [Migration] {
        JobTables.migrations(schema: name) + [Migration(version: "9998_probe_command", sql: "SELECT 1")]
    }
    static func configuration() throws -> ServiceConfiguration { TestEnvironment.configuration(name) }
    static func serve(migrate: Bool) async throws {}
}

@Suite("serve and migrate")
struct ServiceCommandTests {
    @Test("migrate applies what this build knows and exits; afterwards nothing is pending")
    func migrate() async throws {
        let migrate = try #require(try MigrateCommand<ProbeProgram>.parseAsRoot([]) as? MigrateCommand<ProbeProgram>)
        try await migrate.run()
        let pending = try await withDatabase("photoml") { database in try await Migrator(database: database).pending(try ProbeProgram.migrations()) }
        #expect(pending.isEmpty)
    }

    @Test("serve --no-migrate waits for migrate to apply the build's migrations, and a changed one is refused")
    func noMigrate() async throws {
        var configuration = TestEnvironment.configuration("photoml")
        configuration.migrateOnStart = false
        let own = Migration(version: "9999_probe_\(UUID().uuidString.prefix(8).lowercased())", sql: "SELECT 1")
        let migrations = JobTables.migrations(schema: "photoml") + [own]
        let runtime = try ServiceRuntime(configuration: configuration, schema: "photoml", migrations: migrations)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runtime.database.client.run() }
            defer { group.cancelAll() }
            let waiting = Task { try await runtime.prepare() }
            try await Task.sleep(for: .seconds(1))
            #expect(!runtime.migrated.isSet)
            try await Migrator(database: runtime.database).migrate(migrations)
            try await waiting.value
            #expect(runtime.migrated.isSet)
            let edited = Migration(version: own.version, sql: "SELECT 2")
            await #expect(throws: MigrationError.self) { _ = try await Migrator(database: runtime.database).pending(JobTables.migrations(schema: "photoml") + [edited]) }
        }
        await runtime.producer.shutdown()
    }
}
