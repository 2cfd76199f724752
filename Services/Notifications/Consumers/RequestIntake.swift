import Contracts
import Foundation
import Messaging

/// `notifications.request.v1`: every command becomes a notification (once per
/// idempotency key, see NotificationStore.accept).
struct RequestIntake: Sendable {
    static let group = "notifications.intake"
    let store: NotificationStore

    func handle(_ event: EventEnvelope) async throws {
        guard event.type == NotificationRequest.type else { return }
        let request = try event.decode(NotificationRequest.self)
        guard request.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
        try await store.accept(request)
    }
}

/// `auth.membership.v1`: who the tenant's people are, where to write to them, who administers.
struct MembershipFeed: Sendable {
    static let group = "notifications.members"
    let members: MemberStore

    func handle(_ event: EventEnvelope) async throws {
        guard [MembershipEvent.added, MembershipEvent.roleChanged, MembershipEvent.removed].contains(event.type) else { return }
        let membership = try event.decode(MembershipEvent.self)
        guard membership.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
        try await members.apply(membership, removed: event.type == MembershipEvent.removed)
    }
}
