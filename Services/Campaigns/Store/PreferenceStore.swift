import Foundation
import Persistence
import PostgresNIO

/// SQL behind a subscriber's preference page: the tenant's public lists and the lists they
/// are on, and their choices.
struct PreferenceStore: Sendable {
    let database: Database

    struct Choice: Sendable, Equatable {
        var list: UUID
        var name: String
        var subscribed: Bool
    }

    /// The subscriber's address and the lists the page offers; nil when they are gone.
    func page(_ link: SignedLink) async throws -> (String, [Choice])? {
        try await database.withTenant(link.tenant) { connection in
            var email: String?
            for try await found in try await connection.query(
                "SELECT email FROM campaigns.subscribers WHERE id = \(link.subscriber)", logger: database.logger
            ).decode(String.self) {
                email = found
            }
            guard let email else { return nil }
            var choices: [Choice] = []
            for try await (id, name, status) in try await connection.query(
                """
                SELECT l.id, l.name, m.status FROM campaigns.lists l
                LEFT JOIN campaigns.list_members m ON m.list_id = l.id AND m.subscriber_id = \(link.subscriber)
                WHERE l.visibility = 'public' OR m.subscriber_id IS NOT NULL
                ORDER BY l.name
                """, logger: database.logger
            ).decode((UUID, String, String?).self) {
                choices.append(Choice(list: id, name: name, subscribed: status == "confirmed" || status == "unconfirmed"))
            }
            return (email, choices)
        }
    }

    /// Subscribes to the lists checked and unsubscribes from the rest of those the page
    /// offered; answers how many changed.
    func save(_ link: SignedLink, checked: Set<UUID>) async throws -> Int? {
        guard let (_, offered) = try await page(link) else { return nil }
        let join = offered.filter { !$0.subscribed && checked.contains($0.list) }.map(\.list)
        let leave = offered.filter { $0.subscribed && !checked.contains($0.list) }.map(\.list)
        try await database.withTenant(link.tenant) { connection in
            if !join.isEmpty {
                // As a new member: confirmed on single opt-in lists, asked to confirm on double ones.
                try await connection.query(
                    "DELETE FROM campaigns.list_members WHERE subscriber_id = \(link.subscriber) AND list_id = ANY(\(join))", logger: database.logger)
                try await ListStore.join(
                    join, subscribers: [link.subscriber], status: nil, tenant: link.tenant, on: connection, logger: database.logger)
            }
            if !leave.isEmpty {
                try await connection.query(
                    """
                    UPDATE campaigns.list_members SET status = 'unsubscribed', updated_at = now()
                    WHERE subscriber_id = \(link.subscriber) AND list_id = ANY(\(leave))
                    """, logger: database.logger)
            }
        }
        return join.count + leave.count
    }
}
