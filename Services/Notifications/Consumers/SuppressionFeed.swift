import Contracts
import Foundation
import Messaging
import Persistence

/// `campaigns.suppression.v1`: addresses that bounced hard or complained stop getting
/// email from notifications too; a removal lets them get it again.
///
/// Duplicates: the newest word per address wins (the topic is keyed by tenant and address,
/// so one address's events arrive in order); applying one twice changes nothing.
struct SuppressionFeed: EventHandling {
    static let group = "notifications.suppressions"
    let topics = [Topics.campaignsSuppression]
    let database: Database

    func handle(_ event: EventEnvelope) async throws {
        guard Topics.campaignsSuppression.eventTypes.contains(event.type) else { return }
        let change = try event.decode(SuppressionChanged.self)
        let email = change.email.lowercased()
        _ = try await database.withTenant(change.tenantId) { connection in
            if event.type == SuppressionChanged.added {
                try await connection.query(
                    """
                    INSERT INTO notifications.address_suppressions (tenant_id, email, reason) VALUES (\(change.tenantId), \(email), \(change.reason))
                    ON CONFLICT (tenant_id, email) DO UPDATE SET reason = EXCLUDED.reason, updated_at = now()
                    """, logger: database.logger)
            } else {
                try await connection.query(
                    "DELETE FROM notifications.address_suppressions WHERE email = \(email)", logger: database.logger)
            }
        }
    }
}
