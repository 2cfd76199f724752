import Contracts
import Foundation
import PostgresNIO

/// Writes events in the caller's transaction, so an event exists exactly when the state
/// change that caused it committed. The relay (Messaging) publishes them later.
public struct Outbox: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    public func append(_ event: EventEnvelope, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(unescaped: schema).outbox
              (event_id, topic, message_key, tenant_id, event_type, source, subject, occurred_at, traceparent, payload)
            VALUES (\(event.id), \(event.topic), \(event.key), \(event.tenantID), \(event.type), \(event.source),
                    \(event.subject), \(event.time), \(event.traceparent), \(ByteBuffer(bytes: event.data)))
            """,
            logger: Self.quiet
        )
    }

    static let quiet = Logger(label: "outbox")
}

extension Database {
    public var outbox: Outbox { Outbox(schema: schema) }
}
