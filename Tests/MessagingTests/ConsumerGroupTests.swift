import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@Suite("consumer groups")
struct ConsumerGroupTests {
    @Test("a consumer that never polls takes no partitions: a host built only to read its routes steals no events")
    func idleConsumerHoldsNothing() async throws {
        let topic = "test.idle-member.\(UUID())"
        let group = "test-\(UUID())"
        let logger = TestEnvironment.logger
        try await TopicAdmin.ensure(
            [Topic(name: topic, owner: "tests", key: .entityID, partitions: 4, cleanupPolicy: .delete, eventTypes: [])],
            brokers: TestEnvironment.kafkaBrokers)
        let idle = try KafkaConsumer(brokers: TestEnvironment.kafkaBrokers, groupID: group, topics: [topic], logger: logger)
        let active = try KafkaConsumer(brokers: TestEnvironment.kafkaBrokers, groupID: group, topics: [topic], logger: logger)
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test", logger: logger)
        let events = try (0..<20).map { _ in try taskEvent() }
        for event in events { try await producer.send(message(event, topic: topic)) }
        let received = Recorder<String>()
        let reading = Task {
            for await batch in try active.batches() {
                for consumed in batch.messages { received.append(consumed.headers["ce_id"] ?? "") }
                batch.finish(success: true)
            }
        }
        let all = try await eventually(timeout: .seconds(30)) { received.count >= events.count }
        #expect(all, "the polling member got \(received.count) of \(events.count)")
        reading.cancel()
        await active.close()
        await idle.close()
        await producer.shutdown()
    }
}
