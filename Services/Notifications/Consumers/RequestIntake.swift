import Contracts
import Foundation
import Logging
import Messaging
import Metrics

/// `notifications.request.v1`: every command becomes a notification (once per
/// idempotency key, see NotificationStore.accept), a batch at a time with one transaction
/// per tenant.
///
/// Duplicates: idempotency key (the command's own, unique per tenant).
struct RequestIntake: BatchHandling {
    static let group = "notifications.intake"
    let topics = [Topics.notificationsRequest]
    let maxBatch = 200
    let store: NotificationStore
    let logger: Logger

    func handle(_ events: [EventEnvelope]) async throws {
        var byTenant: [UUID: [NotificationRequest]] = [:]
        var order: [UUID] = []
        for event in events where event.type == NotificationRequest.type {
            do {
                let request = try event.decode(NotificationRequest.self)
                if byTenant[request.tenantId] == nil { order.append(request.tenantId) }
                byTenant[request.tenantId, default: []].append(request)
            } catch {
                // Retrying cannot fix it: to dlq.notifications, and the rest of the batch goes on.
                Counter(label: "notifications_requests_rejected_total").increment()
                logger.error("notification request rejected", metadata: ["event_id": "\(event.id)", "error": "\(error)"])
                let deadLetters = DeadLetters(database: store.database, service: "notifications")
                try await store.database.withTransaction { connection in
                    try await deadLetters.record(event, error: "\(error)", on: connection)
                }
            }
        }
        for tenant in order { try await store.accept(byTenant[tenant] ?? [], tenant: tenant) }
    }
}

/// `auth.membership.v1`: who the tenant's people are, where to write to them, who administers.
///
/// Duplicates: version guard (a member row changes only for a newer membership version).
struct MembershipFeed: EventHandling {
    static let group = "notifications.members"
    let topics = [Topics.authMembership]
    let members: MemberStore

    func handle(_ event: EventEnvelope) async throws {
        guard [MembershipEvent.added, MembershipEvent.roleChanged, MembershipEvent.removed].contains(event.type) else { return }
        let membership = try event.decode(MembershipEvent.self)
        try await members.apply(membership, removed: event.type == MembershipEvent.removed)
    }
}
