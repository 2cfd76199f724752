import Contracts
import Foundation
import Instrumentation
import PostgresNIO
import ServiceKit

/// Writes events in the caller's transaction, so an event exists exactly when the state
/// change that caused it committed. The relay (Messaging) publishes them later.
public struct Outbox: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    /// `extraHeaders` are sent after the CloudEvent headers (a dead letter's `dlq_*`).
    /// `secret`: the payload carries a secret (a one-time token) and is erased once published.
    public func append(
        _ event: EventEnvelope, extraHeaders: [(String, String)] = [], secret: Bool = false, on connection: PostgresConnection
    ) async throws {
        let extra = extraHeaders.isEmpty ? nil : String(decoding: try JSONEncoder().encode(extraHeaders.map { [$0.0, $0.1] }), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO \(unescaped: schema).outbox
              (event_id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, traceparent, payload, extra_headers, secret)
            VALUES (\(event.id), \(event.topic), \(event.key), \(event.tenantID), \(event.type), \(event.source),
                    \(event.subject), \(event.time), \(event.traceparent ?? Self.traceparent()), \(ByteBuffer(bytes: event.data)), \(extra)::jsonb, \(secret))
            """,
            logger: Self.quiet
        )
    }

    /// Many events in one statement (a consumer's batch).
    public func append(_ events: [EventEnvelope], on connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        let current = Self.traceparent() ?? ""
        try await connection.query(
            """
            INSERT INTO \(unescaped: schema).outbox
              (event_id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, traceparent, payload)
            SELECT id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, NULLIF(traceparent, ''), payload
            FROM unnest(\(events.map(\.id))::uuid[], \(events.map(\.topic))::text[], \(events.map(\.key))::text[], \(events.map(\.tenantID))::uuid[],
                        \(events.map(\.type))::text[], \(events.map(\.source))::text[], \(events.map(\.subject))::text[], \(events.map(\.time))::timestamptz[],
                        \(events.map { $0.traceparent ?? current })::text[], \(events.map { ByteBuffer(bytes: $0.data) })::bytea[])
              AS e(id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, traceparent, payload)
            """,
            logger: Self.quiet
        )
    }

    /// True when the outbox already holds an event with this id (kept 7 days after sending).
    public func contains(_ eventID: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("SELECT 1 FROM \(unescaped: schema).outbox WHERE event_id = \(eventID)", logger: Self.quiet)
        for try await _ in rows { return true }
        return false
    }

    static let quiet = Logger(label: "outbox")

    /// The W3C `traceparent` of the span the event is written in (a request's, a job's, a
    /// consumer's), so its consumers continue that trace; nil without a tracer or a span.
    static func traceparent() -> String? {
        ServiceContext.current.flatMap(TraceCarrier.traceparent(of:))
    }
}

extension Database {
    public var outbox: Outbox { Outbox(schema: schema) }
}
