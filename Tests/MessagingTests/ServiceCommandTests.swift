import ArgumentParser
import Foundation
import Jobs
import Messaging
import Persistence
import ServiceHost
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
        let migrate = try #require(MigrateCommand<ProbeProgram>.parseAsRoot([]) as? MigrateCommand<ProbeProgram>)
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
        let host = try ServiceHost(configuration: configuration, schema: "photoml", migrations: migrations)
        let database = host.database
        let preparation = host.preparation
        let migrated = host.migrated
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let waiting = Task { try await preparation.run() }
            try await Task.sleep(for: .seconds(1))
            #expect(!migrated.isSet)
            try await Migrator(database: database).migrate(migrations)
            try await waiting.value
            #expect(migrated.isSet)
            let edited = Migration(version: own.version, sql: "SELECT 2")
            await #expect(throws: MigrationError.self) {
                _ = try await Migrator(database: database).pending(JobTables.migrations(schema: "photoml") + [edited])
            }
        }
        await host.producer.shutdown()
    }
}
