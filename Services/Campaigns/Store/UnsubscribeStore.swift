import Foundation
import Persistence
import PostgresNIO

/// SQL behind a campaign email's unsubscribe link.
struct UnsubscribeStore: Sendable {
    let database: Database

    /// Whose link it is and the lists it takes them off: the campaign's lists, or every
    /// list they are on when the campaign went to segments only. Nil when either is gone.
    func target(_ link: SignedLink) async throws -> (email: String, lists: [(UUID, String, String)])? {
        try await database.withTenant(link.tenant) { connection in
            var email: String?
            for try await found in try await connection.query(
                "SELECT email FROM campaigns.subscribers WHERE id = \(link.subscriber)", logger: database.logger
            ).decode(String.self) {
                email = found
            }
            var campaignLists: [UUID]?
            for try await lists in try await connection.query(
                "SELECT list_ids FROM campaigns.campaigns WHERE id = \(link.campaign)", logger: database.logger
            ).decode([UUID].self) {
                campaignLists = lists
            }
            guard let email, let campaignLists else { return nil }
            var lists: [(UUID, String, String)] = []
            for try await row in try await connection.query(
                """
                SELECT l.id, l.name, m.status FROM campaigns.list_members m JOIN campaigns.lists l ON l.id = m.list_id
                WHERE m.subscriber_id = \(link.subscriber) AND (cardinality(\(campaignLists)::uuid[]) = 0 OR l.id = ANY(\(campaignLists)))
                ORDER BY l.name
                """, logger: database.logger
            ).decode((UUID, String, String).self) {
                lists.append(row)
            }
            return (email, lists)
        }
    }

    /// Takes the subscriber off those lists (kept as `unsubscribed`); answers how many changed.
    func unsubscribe(_ link: SignedLink) async throws -> Int? {
        guard let (_, lists) = try await target(link) else { return nil }
        let ids = lists.map(\.0)
        return try await database.withTenant(link.tenant) { connection in
            var changed = 0
            for try await count in try await connection.query(
                """
                WITH changed AS (
                  UPDATE campaigns.list_members SET status = 'unsubscribed', updated_at = now()
                  WHERE subscriber_id = \(link.subscriber) AND list_id = ANY(\(ids)) AND status <> 'unsubscribed' RETURNING 1)
                SELECT count(*)::int FROM changed
                """, logger: database.logger
            ).decode(Int.self) {
                changed = count
            }
            return changed
        }
    }
}
