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

extension Database {
    /// Deletes inbox rows processed more than `days` ago, a slice at a time; answers how
    /// many. A redelivery that late comes only from a replay, and every consumer with an
    /// inbox also guards by version, so an old event changes nothing even unrecorded.
    @discardableResult
    public func purgeInbox(olderThan days: Int, slice: Int = 10_000) async throws -> Int {
        var total = 0
        while true {
            var deleted = 0
            for try await _ in try await client.query(
                """
                DELETE FROM \(unescaped: schema).inbox WHERE ctid = ANY(ARRAY(
                  SELECT ctid FROM \(unescaped: schema).inbox WHERE processed_at < now() - make_interval(days => \(days)::int) LIMIT \(slice)))
                RETURNING 1
                """, logger: logger)
            {
                deleted += 1
            }
            total += deleted
            if deleted < slice { return total }
        }
    }
}
