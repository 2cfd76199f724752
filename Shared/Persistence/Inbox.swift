import Foundation
import PostgresNIO

/// Records which events a consumer has applied, in the same transaction as the effect,
/// so a redelivered event changes nothing.
public struct Inbox: Sendable {
    public let schema: String
    public let consumer: String

    public init(schema: String, consumer: String) {
        self.schema = schema
        self.consumer = consumer
    }

    /// True the first time an event id is claimed; false when it was already processed.
    public func claim(eventID: UUID, topic: String, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO \(unescaped: schema).inbox (event_id, consumer, topic) VALUES (\(eventID), \(consumer), \(topic))
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            logger: Outbox.quiet
        )
        for try await _ in rows { return true }
        return false
    }
}
