import Contracts
import Foundation
import Messaging
import Persistence
import PostgresNIO
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing

/// Uses the gateway schema's outbox: no service under test relays that schema.
@Suite("outbox relay", .serialized)
struct OutboxRelayTests {
    func write(_ events: [EventEnvelope], _ database: Database) async throws {
        try await database.withTransaction { connection in
            for event in events { try await database.outbox.append(event, on: connection) }
        }
    }

    func unpublished(_ ids: [UUID], _ database: Database) async throws -> Int {
        try await database.client.query(
            "SELECT count(*)::int FROM gateway.outbox WHERE event_id = ANY(\(ids)) AND published_at IS NULL", logger: database.logger
        ).decode(Int.self).first { _ in true } ?? -1
    }

    /// Runs an outbox relay for the gateway schema to `brokers` while `body` runs.
    func whileRelaying(_ database: Database, to brokers: String, _ body: () async throws -> Void) async throws {
        try await Migrator(database: database).migrate([])
        _ = PlatformMetrics.registry  // swift-metrics bootstrapped before the relay makes its gauge
        let logger = TestEnvironment.logger
        let ready = ReadyFlag()
        ready.set()
        let relay = OutboxRelay(
            database: database, logger: logger, schemaReady: ready, pollInterval: .milliseconds(200), ageInterval: .milliseconds(200)
        ) {
            try KafkaProducer(brokers: brokers, clientID: "relay-test", logger: logger, settings: ["message.timeout.ms": "3000"])
        }
        let group = ServiceGroup(services: [relay], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The relay's `outbox_oldest_unpublished_seconds` for the gateway schema, as /metrics shows it.
    func oldestUnpublished() -> Double? {
        let text = String(decoding: PlatformMetrics.registry.emitToBuffer(), as: UTF8.self)
        let prefix = "outbox_oldest_unpublished_seconds{schema=\"gateway\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// Successive versions of one task: one key, so their order is the order of the partition.
    func events(on topic: Topic, count: Int) throws -> [EventEnvelope] {
        let tenant = UUID.v7()
        let task = UUID.v7()
        return try (0..<count).map { index in
            let event = TaskChanged(
                taskId: task, tenantId: tenant, projectId: nil, parentId: nil, title: "event \(index)", description: nil,
                status: "todo", priority: 1, tags: [], dueAt: nil, assigneeId: nil, version: index + 1, occurredAt: Date())
            return try EventEnvelope.make(event, type: TaskChanged.created, on: topic, source: "/tests", tenantID: tenant)
        }
    }

    @Test("events written while the broker is down are published, in order, once it is back")
    func brokerOutage() async throws {
        let broker = ScratchBroker()
        try broker.start()
        defer { broker.stop() }
        let topic = Topic(
            name: "test.outbox.\(UUID())", owner: "tasks", key: .entityID, partitions: 1, cleanupPolicy: .delete,
            eventTypes: [TaskChanged.created])
        try await withDatabase("gateway") { database in
            let during = try events(on: topic, count: 3)
            try await whileRelaying(database, to: broker.brokers) {
                let before = try events(on: topic, count: 1)
                try await write(before, database)
                #expect(try await eventually { try await unpublished(before.map(\.id), database) == 0 })

                broker.stop()
                try await write(during, database)  // the state change commits although Kafka is down
                try await Task.sleep(for: .seconds(4))
                #expect(try await unpublished(during.map(\.id), database) == 3)
                // The wait shows in the metric the OutboxBehind alert watches.
                #expect((oldestUnpublished() ?? 0) >= 2)

                try broker.start()
                #expect(try await eventually(timeout: .seconds(60)) { try await unpublished(during.map(\.id), database) == 0 })
                #expect(try await eventually { oldestUnpublished() == 0 })
            }

            let reader = try TopicReader(topic: topic.name, brokers: broker.brokers)
            let ids = during.map { $0.id.uuidString.lowercased() }
            #expect(try await eventually { Set(reader.messages.compactMap { $0.headers["ce_id"] }).isSuperset(of: ids) })
            let order = reader.messages.compactMap { $0.headers["ce_id"] }.filter { ids.contains($0) }
            #expect(order == ids)
            await reader.close()
        }
    }

    @Test("an event the broker will never accept is dead-lettered with a notice, and the events after it still flow")
    func refusedForGood() async throws {
        let topic = Topic(
            name: "test.outbox.\(UUID())", owner: "tasks", key: .entityID, partitions: 1, cleanupPolicy: .delete,
            eventTypes: [TaskChanged.created])
        let tenant = UUID.v7()
        // Over librdkafka's message.max.bytes (1 MB): refused before it is ever sent.
        let huge = TaskChanged(
            taskId: .v7(), tenantId: tenant, projectId: nil, parentId: nil, title: "huge", description: String(repeating: "x", count: 2_000_000),
            status: "todo", priority: 1, tags: [], dueAt: nil, assigneeId: nil, version: 1, occurredAt: Date())
        let refused = try EventEnvelope.make(huge, type: TaskChanged.created, on: topic, source: "/tests", tenantID: tenant)
        let after = try events(on: topic, count: 2)
        try await withDatabase("gateway") { database in
            try await whileRelaying(database, to: TestEnvironment.kafkaBrokers) {
                try await write([refused] + after, database)
                #expect(try await eventually(timeout: .seconds(30)) { try await unpublished(([refused] + after).map(\.id), database) == 0 })
            }
            let error =
                try await database.client.query(
                    "SELECT last_error FROM gateway.outbox WHERE event_id = \(refused.id)", logger: database.logger
                ).decode(String?.self).first { _ in true } ?? nil
            #expect(error?.hasPrefix("dead-lettered: ") == true)

            let reader = try TopicReader(topic: topic.name)
            let ids = Set(after.map { $0.id.uuidString.lowercased() })
            #expect(try await eventually { Set(reader.messages.compactMap { $0.headers["ce_id"] }).isSuperset(of: ids) })
            #expect(!reader.messages.contains { $0.headers["ce_id"] == refused.id.uuidString.lowercased() })
            await reader.close()
            let letters = try TopicReader(topic: Topic.deadLetter(for: "gateway").name)
            // Read from the start of a topic every run writes to: under a loaded suite this can take a while.
            let notice = try await letters.first(timeout: .seconds(90)) { $0.headers["dlq_event_id"] == refused.id.uuidString.lowercased() }
            #expect(notice?.headers["dlq_topic"] == topic.name)
            #expect(notice?.value.isEmpty == true)
            await letters.close()
        }
    }
}
