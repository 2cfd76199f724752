import Contracts
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// An error that retrying cannot fix (a message that does not parse): it goes to the
/// dead-letter topic at once.
public struct PermanentFailure: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Runs a handler for every event on some topics, as a lifecycle service.
///
/// Per message: the handler is tried up to `maxAttempts` times with exponential backoff;
/// a message that still fails, or fails permanently, is produced to `dlq.<service>` with
/// the error and its origin in headers, and the consumer goes on. If even the dead-letter
/// produce fails, the batch is not committed and is read again later: nothing is lost.
public struct EventConsumer: Service {
    public typealias Handler = @Sendable (EventEnvelope) async throws -> Void

    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let service: String
    let handler: Handler
    let logger: Logger
    let maxAttempts: Int
    let baseBackoff: Duration

    public init(
        consumer: KafkaConsumer, deadLetterProducer: KafkaProducer, service: String, logger: Logger,
        maxAttempts: Int = 4, baseBackoff: Duration = .milliseconds(100), handler: @escaping Handler
    ) {
        self.consumer = consumer
        self.producer = deadLetterProducer
        self.service = service
        self.handler = handler
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
    }

    public func run() async throws {
        let batches = consumer.batches()
        let consumer = self.consumer
        await withGracefulShutdownHandler {
            for await batch in batches {
                var success = false
                defer { batch.finish(success: success) }
                success = await process(batch.messages)
                if !success {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        } onGracefulShutdown: {
            consumer.stopPolling()
        }
        await consumer.close()
    }

    /// True when every message was applied or dead-lettered.
    func process(_ messages: [ConsumedMessage]) async -> Bool {
        for message in messages {
            let error = await applyWithRetries(message)
            guard let error else { continue }
            Counter(label: "consumer_dead_lettered_total", dimensions: [("topic", message.topic)]).increment()
            logger.error("message dead-lettered", metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)",
            ])
            var headers = message.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            headers += [
                ("dlq_error", String(describing: error).prefix(1000).description),
                ("dlq_topic", message.topic),
                ("dlq_partition", String(message.partition)),
                ("dlq_offset", String(message.offset)),
                ("dlq_consumer", service),
            ]
            let deadLetter = OutgoingMessage(topic: Topic.deadLetter(for: service).name, key: message.key, value: message.value, headers: headers)
            do {
                try await producer.send(deadLetter)
            } catch {
                logger.error("could not dead-letter a message; the batch will be read again", metadata: ["error": "\(error)"])
                return false
            }
        }
        return true
    }

    /// nil when the message was applied; the last error otherwise.
    func applyWithRetries(_ message: ConsumedMessage) async -> (any Error)? {
        let envelope: EventEnvelope
        do {
            envelope = try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
        } catch {
            return PermanentFailure("not a CloudEvent: \(error)")
        }
        var lastError: (any Error)?
        for attempt in 0..<maxAttempts {
            do {
                try await handler(envelope)
                return nil
            } catch let error as PermanentFailure {
                return error
            } catch is DecodingError {
                return PermanentFailure("the \(envelope.type) payload does not decode")
            } catch {
                lastError = error
                logger.warning("handler failed; retrying", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)", "event_id": "\(envelope.id)"])
                try? await Task.sleep(for: baseBackoff * (1 << attempt))
            }
        }
        return lastError
    }
}
