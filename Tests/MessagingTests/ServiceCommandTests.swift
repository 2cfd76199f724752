import ArgumentParser
import Contracts
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

    @Test("dlq replay produces the dead letters of one topic to it again, as they first came; others stay")
    func replay() async throws {
        let topic = "test.replay.\(UUID())"
        let other = "test.other.\(UUID())"
        try await TopicAdmin.ensure([Topic.deadLetter(for: ProbeProgram.name)], brokers: TestEnvironment.kafkaBrokers)
        let event = try taskEvent()
        let reader = try TopicReader(topic: topic)
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test", logger: TestEnvironment.logger)
        let dlq = Topic.deadLetter(for: ProbeProgram.name).name
        let letter = [("dlq_topic", topic), ("dlq_error", "boom"), ("dlq_consumer", ProbeProgram.name), ("dlq_at", "2026-12-06T10:00:00Z")]
        // One CloudEvent, one message that was none (its headers kept as dlq_header_*), one of another topic.
        try await producer.send(OutgoingMessage(topic: dlq, key: event.key, value: Array(event.data), headers: event.headers + letter))
        try await producer.send(
            OutgoingMessage(
                topic: dlq, key: "k", value: Array("{}".utf8), headers: letter + [("ce_type", "dlq.unreadable"), ("dlq_header_x-origin", "legacy")]))
        try await producer.send(
            OutgoingMessage(topic: dlq, key: "k", value: Array("{}".utf8), headers: [("dlq_topic", other), ("dlq_at", "2026-12-06T10:00:00Z")]))
        await producer.shutdown()

        let replay = try #require(
            try DeadLetterCommand<ProbeProgram>.parseAsRoot(["replay", "--topic", topic, "--since", "2026-12-01T00:00:00Z", "--idle-seconds", "3"])
                as? DeadLetterCommand<ProbeProgram>.Replay)
        try await replay.run()
        let both = try await eventually(timeout: .seconds(20)) { reader.messages.count >= 2 }
        #expect(both)
        let again = try #require(reader.messages.first { $0.headers["ce_id"] == event.id.uuidString.lowercased() })
        #expect(again.value == Array(event.data))
        #expect(again.headers.keys.allSatisfy { !$0.hasPrefix("dlq_") })
        #expect(reader.messages.contains { $0.headers["x-origin"] == "legacy" && $0.value == Array("{}".utf8) })
        await reader.close()
        #expect(throws: (any Error).self) {
            _ = try DeadLetterCommand<ProbeProgram>.parseAsRoot(["replay", "--topic", topic, "--since", "yesterday"])
        }
    }
}
