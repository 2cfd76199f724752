import Contracts
import Foundation
import Messaging
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

/// Runs an EventConsumer on a fresh topic until `body` returns.
func withConsumer(
    topic: String, service: String, handler: @escaping EventConsumer.Handler, _ body: (KafkaProducer) async throws -> Void
) async throws {
    let logger = TestEnvironment.logger
    try await TopicAdmin.ensure(
        [Topic(name: topic, owner: service, key: .entityID, partitions: 2, cleanupPolicy: .delete, eventTypes: [])],
        brokers: TestEnvironment.kafkaBrokers)
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test", logger: logger)
    let consumer = try KafkaConsumer(brokers: TestEnvironment.kafkaBrokers, groupID: "test-\(UUID())", topics: [topic], logger: logger)
    let service = EventConsumer(
        consumer: consumer, deadLetterProducer: producer, service: service, logger: logger,
        baseBackoff: .milliseconds(10), handler: handler)
    let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await body(producer)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
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
        }
        let dead = try await reader.first { $0.headers["dlq_topic"] == topic }
        #expect(dead?.headers["dlq_error"]?.isEmpty == false)
        #expect(dead?.headers["dlq_consumer"] == service)
        // Both dead letters arrive; the second may still be on its way when the first is read.
        let both = try await eventually(timeout: .seconds(10)) { reader.messages.filter { $0.headers["dlq_topic"] == topic }.count == 2 }
        #expect(both)
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
