import Contracts
import Foundation
import Messaging
import Persistence
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing

func taskEvent(tenant: UUID = .v7(), title: String = "Write report", version: Int = 1) throws -> EventEnvelope {
    let task = TaskChanged(
        taskId: .v7(), tenantId: tenant, projectId: nil, parentId: nil, title: title, description: nil, status: "todo",
        priority: 1, tags: [], dueAt: nil, assigneeId: nil, version: version, occurredAt: Date())
    return try .make(task, type: TaskChanged.created, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
}

func message(_ event: EventEnvelope, topic: String) -> OutgoingMessage {
    OutgoingMessage(topic: topic, key: event.key, value: Array(event.data), headers: event.headers)
}

/// Runs an EventConsumer on a fresh topic until `body` returns, with the photoml schema's
/// outbox relay (no service of the tests relays it otherwise) carrying its dead letters.
func withConsumer(
    topic: String, service: String, handler: @escaping EventConsumer.Handler, _ body: @Sendable (KafkaProducer) async throws -> Void
) async throws {
    let logger = TestEnvironment.logger
    try await TopicAdmin.ensure(
        [Topic(name: topic, owner: service, key: .entityID, partitions: 2, cleanupPolicy: .delete, eventTypes: [])],
        brokers: TestEnvironment.kafkaBrokers)
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test", logger: logger)
    try await withDatabase("photoml") { database in
        try await Migrator(database: database).migrate([])
        let ready = ReadyFlag()
        ready.set()
        let relay = OutboxRelay(database: database, logger: logger, schemaReady: ready, pollInterval: .milliseconds(200)) {
            try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test-relay", logger: logger)
        }
        let consumer = try KafkaConsumer(brokers: TestEnvironment.kafkaBrokers, groupID: "test-\(UUID())", topics: [topic], logger: logger)
        let events = EventConsumer(
            consumer: consumer, deadLetters: DeadLetters(database: database, service: service), logger: logger, baseBackoff: .milliseconds(10),
            handler: handler)
        let group = ServiceGroup(services: [relay, events], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body(producer)
            // Dead letters still in the outbox go out before the relay stops.
            try await Task.sleep(for: .milliseconds(500))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
    await producer.shutdown()
}

@Suite("consuming events")
struct EventConsumerTests {
    @Test("an event produced with CloudEvents headers reaches the handler intact")
    func roundTrip() async throws {
        let topic = "test.roundtrip.\(UUID())"
        let received = Recorder<EventEnvelope>()
        let event = try taskEvent()
        try await withConsumer(topic: topic, service: "tests", handler: { received.append($0) }) { producer in
            try await producer.send(message(event, topic: topic))
            #expect(try await eventually { received.count > 0 })
        }
        let got = try #require(received.all.first)
        #expect(got.id == event.id)
        #expect(got.type == TaskChanged.created)
        #expect(try got.decode(TaskChanged.self) == event.decode(TaskChanged.self))
    }

    @Test("a poison message goes to the dead-letter topic and the consumer goes on")
    func poison() async throws {
        let topic = "test.poison.\(UUID())"
        let service = "tests\(UInt16.random(in: 0...UInt16.max))"
        try await TopicAdmin.ensure([Topic.deadLetter(for: service)], brokers: TestEnvironment.kafkaBrokers)
        let reader = try TopicReader(topic: Topic.deadLetter(for: service).name)
        let applied = Recorder<UUID>()
        let good = try taskEvent()
        try await withConsumer(
            topic: topic, service: service,
            handler: { event in
                _ = try event.decode(TaskChanged.self)
                applied.append(event.id)
            }
        ) { producer in
            try await producer.send(
                OutgoingMessage(
                    topic: topic, key: good.key, value: Array("not json".utf8),
                    headers: good.headers.filter { $0.0 != "ce_id" } + [("ce_id", UUID().uuidString)]))
            try await producer.send(OutgoingMessage(topic: topic, key: "k", value: Array("{}".utf8), headers: []))
            try await producer.send(message(good, topic: topic))
            #expect(try await eventually { applied.all.contains(good.id) })
            // Both dead letters arrive (through the outbox, while its relay runs).
            let both = try await eventually(timeout: .seconds(20)) { reader.messages.filter { $0.headers["dlq_topic"] == topic }.count == 2 }
            #expect(both)
        }
        let letters = reader.messages.filter { $0.headers["dlq_topic"] == topic }
        #expect(letters.allSatisfy { $0.headers["dlq_error"]?.isEmpty == false && $0.headers["dlq_consumer"] == service })
        // The one that was no CloudEvent keeps its bytes; the other its event id.
        #expect(letters.contains { $0.headers["ce_type"] == "dlq.unreadable" && $0.value == Array("{}".utf8) })
        #expect(letters.contains { $0.headers["ce_type"] == TaskChanged.created })
        await reader.close()
    }

    @Test("a handler that fails transiently is retried and applies the event once")
    func retried() async throws {
        let topic = "test.retry.\(UUID())"
        let attempts = Recorder<Int>()
        let applied = Recorder<Int>()
        struct Transient: Error {}
        try await withConsumer(
            topic: topic, service: "tests",
            handler: { _ in
                attempts.append(1)
                if attempts.count < 3 { throw Transient() }
                applied.append(1)
            }
        ) { producer in
            try await producer.send(message(try taskEvent(), topic: topic))
            #expect(try await eventually { applied.count == 1 })
        }
        #expect(attempts.count == 3)
        #expect(applied.count == 1)
    }
}
