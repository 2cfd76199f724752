import Contracts
import Foundation
import Messaging

/// `campaigns.suppression.v1`: addresses that bounced hard or complained stop getting
/// email from notifications too; a removal lets them get it again.
///
/// Duplicates: the newest word per address wins (the topic is keyed by tenant and address,
/// so one address's events arrive in order); applying one twice changes nothing.
struct SuppressionFeed: EventHandling {
    static let group = "notifications.suppressions"
    let topics = [Topics.campaignsSuppression]
    let store: AddressSuppressionStore

    func handle(_ event: EventEnvelope) async throws {
        guard Topics.campaignsSuppression.eventTypes.contains(event.type) else { return }
        let change = try event.decode(SuppressionChanged.self)
        let email = change.email.lowercased()
        if event.type == SuppressionChanged.added {
            try await store.add(email, reason: change.reason, tenant: change.tenantId)
        } else {
            try await store.remove(email, tenant: change.tenantId)
        }
    }
}
