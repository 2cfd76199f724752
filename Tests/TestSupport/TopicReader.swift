import Foundation
import Messaging

/// Reads a topic from the beginning with a consumer group of its own, for assertions.
public final class TopicReader: Sendable {
    let consumer: KafkaConsumer
    let seen = Recorder<ConsumedMessage>()
    let task: Task<Void, Never>

    public init(topic: String, brokers: String = TestEnvironment.kafkaBrokers) throws {
        let consumer = try KafkaConsumer(brokers: brokers, groupID: "test-reader-\(UUID())", topics: [topic], logger: TestEnvironment.logger)
        self.consumer = consumer
        let seen = self.seen
        let batches = try consumer.batches()
        task = Task {
            for await batch in batches {
                seen.append(contentsOf: batch.messages)
                batch.finish(success: true)
            }
        }
    }

    /// The first message matching `predicate` within `timeout`, or nil.
    public func first(timeout: Duration = .seconds(30), where predicate: @Sendable (ConsumedMessage) -> Bool) async throws -> ConsumedMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let match = seen.all.first(where: predicate) { return match }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    public var messages: [ConsumedMessage] { seen.all }

    public func close() async {
        consumer.stopPolling()
        await task.value
        await consumer.close()
    }
}
