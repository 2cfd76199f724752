import Contracts
import Foundation
import Instrumentation
import Logging
import Metrics
import ServiceContextModule
import ServiceKit
import ServiceLifecycle
import Tracing

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
/// a message that still fails, or fails permanently, is dead-lettered (`DeadLetters`:
/// through the outbox to `dlq.<service>`, with the error and its origin in headers), and
/// the consumer goes on. If even that fails, the batch is not committed and is read again
/// later: nothing is lost.
///
/// A batch handler gets every parseable message of a batch at once and answers for the
/// failures of single events itself; if it throws, the batch is tried again later and
/// never dead-lettered as a whole (a database outage must not empty the topic).
public struct EventConsumer: Service {
    public typealias Handler = @Sendable (EventEnvelope) async throws -> Void
    public typealias BatchHandler = @Sendable ([EventEnvelope]) async throws -> Void

    enum Handling: Sendable {
        case each(Handler)
        case batch(BatchHandler)
    }

    public let consumer: KafkaConsumer
    let deadLetters: DeadLetters
    let handling: Handling
    let logger: Logger
    let maxAttempts: Int
    let baseBackoff: Duration

    public init(
        consumer: KafkaConsumer, deadLetters: DeadLetters, logger: Logger,
        maxAttempts: Int = 4, baseBackoff: Duration = .milliseconds(100), handler: @escaping Handler
    ) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.handling = .each(handler)
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
    }

    public init(
        consumer: KafkaConsumer, deadLetters: DeadLetters, logger: Logger,
        maxAttempts: Int = 4, baseBackoff: Duration = .milliseconds(100), batchHandler: @escaping BatchHandler
    ) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.handling = .batch(batchHandler)
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
    }

    public func run() async throws {
        let batches = try consumer.batches()
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
        switch handling {
        case .each(let handler):
            for message in messages {
                guard await deadLetterIfFailed(message, error: await applyWithRetries(message, handler)) else { return false }
            }
            return true
        case .batch(let handler):
            var envelopes: [EventEnvelope] = []
            for message in messages {
                do {
                    envelopes.append(try Self.envelope(message))
                } catch {
                    guard await deadLetterIfFailed(message, error: error) else { return false }
                }
            }
            return await applyBatchWithRetries(envelopes, handler)
        }
    }

    public static func envelope(_ message: ConsumedMessage) throws -> EventEnvelope {
        do {
            return try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
        } catch {
            throw PermanentFailure("not a CloudEvent: \(error)")
        }
    }

    /// A span continuing the trace the event was written in (its `traceparent`).
    static func startSpan(_ envelope: EventEnvelope) -> any Span {
        let span = InstrumentationSystem.tracer.startSpan(
            "\(envelope.topic) process", context: TraceCarrier.context(continuing: envelope.traceparent), ofKind: .consumer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.destination.name"] = envelope.topic
        span.attributes["cloudevents.event_type"] = envelope.type
        span.attributes["cloudevents.event_id"] = envelope.id.uuidString.lowercased()
        return span
    }

    /// False when the batch handler kept failing: the batch is read again later. Each event's
    /// trace gets a span covering the batch that applied it. The batch's statements are one
    /// piece of work for many traces, and a span has one parent: they go in the first event's.
    func applyBatchWithRetries(_ envelopes: [EventEnvelope], _ handler: BatchHandler) async -> Bool {
        guard !envelopes.isEmpty else { return true }
        let spans = envelopes.map(Self.startSpan)
        defer { for span in spans { span.end() } }
        let context = spans[0].context
        for attempt in 0..<maxAttempts {
            do {
                try await ServiceContextModule.ServiceContext.withValue(context) { try await handler(envelopes) }
                return true
            } catch {
                for span in spans { span.recordError(error) }
                logger.warning(
                    "batch handler failed; retrying", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)", "events": "\(envelopes.count)"])
                try? await Task.sleep(for: baseBackoff * (1 << attempt))
            }
        }
        return false
    }

    /// False when the message failed and could not be dead-lettered.
    func deadLetterIfFailed(_ message: ConsumedMessage, error: (any Error)?) async -> Bool {
        guard let error else { return true }
        do {
            try await deadLetters.record(message, error: String(describing: error))
            Counter(label: "consumer_dead_lettered_total", dimensions: [("topic", message.topic)]).increment()
            logger.error(
                "message dead-lettered",
                metadata: [
                    "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)",
                ])
            return true
        } catch {
            logger.error("could not dead-letter a message; the batch will be read again", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// nil when the message was applied; the last error otherwise.
    func applyWithRetries(_ message: ConsumedMessage, _ handler: Handler) async -> (any Error)? {
        let envelope: EventEnvelope
        do {
            envelope = try Self.envelope(message)
        } catch {
            return error
        }
        // Handled inside the span of the trace the event was written in: what the handler writes
        // to its own outbox carries that trace on.
        let span = Self.startSpan(envelope)
        defer { span.end() }
        var lastError: (any Error)?
        for attempt in 0..<maxAttempts {
            do {
                try await ServiceContextModule.ServiceContext.withValue(span.context) { try await handler(envelope) }
                return nil
            } catch let error as PermanentFailure {
                return error
            } catch let error as TenantMismatch {
                return PermanentFailure(error.description)
            } catch is DecodingError {
                return PermanentFailure("the \(envelope.type) payload does not decode")
            } catch {
                lastError = error
                span.recordError(error)
                logger.warning(
                    "handler failed; retrying", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)", "event_id": "\(envelope.id)"])
                try? await Task.sleep(for: baseBackoff * (1 << attempt))
            }
        }
        return lastError
    }
}
