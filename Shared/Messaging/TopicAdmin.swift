import CRdKafka
import Contracts
import Foundation

/// Creates topics from the registry (development and tests; production declares them as
/// KafkaTopic resources). Uses its own short-lived handle: creating topics on the
/// producer's handle just before producing stalled the producer on this broker.
public enum TopicAdmin {
    public static func ensure(_ topics: [Topic], brokers: String, timeout: Duration = .seconds(10)) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    try create(topics, brokers: brokers, timeoutMs: Int32(timeout.components.seconds * 1000))
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    static func create(_ topics: [Topic], brokers: String, timeoutMs: Int32) throws {
        let conf = try KafkaConfiguration.make(["bootstrap.servers": brokers, "reconnect.backoff.max.ms": "500"])
        let handle = try KafkaConfiguration.newHandle(RD_KAFKA_PRODUCER, conf)
        defer { rd_kafka_destroy(handle) }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), 1, &errstr, errstr.count) else {
                throw KafkaError(message: "topic \(topic.name): \(cString(errstr))")
            }
            rd_kafka_NewTopic_set_config(newTopic, "cleanup.policy", topic.cleanupPolicy.rawValue)
            newTopics.append(newTopic)
        }
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError(message: "no queue") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, Int32(timeoutMs) + 2000) else {
            throw KafkaError(message: "CreateTopics timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rd_kafka_event_error(event))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { throw KafkaError(message: "no CreateTopics result") }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let err = rd_kafka_topic_result_error(results[index])
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw KafkaError(err)
            }
        }
    }
}
