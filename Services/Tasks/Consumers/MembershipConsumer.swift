import Contracts
import Foundation
import Messaging

/// Learns the tenant's members from `auth.membership.v1` (each event once, older versions
/// ignored): only members can be assigned tasks, and a removed member's open tasks lose
/// their assignee.
///
/// Duplicates: inbox (the event id, in the transaction of the effect), and a version guard
/// for events that arrive out of order.
struct MembershipConsumer: EventHandling {
    static let group = "tasks.membership"
    let topics = [Topics.authMembership]
    let members: MemberStore

    init(store: TaskStore) {
        self.members = MemberStore(tasks: store, consumer: Self.group)
    }

    func handle(_ event: EventEnvelope) async throws {
        guard [MembershipEvent.added, MembershipEvent.roleChanged, MembershipEvent.removed].contains(event.type) else { return }
        try await members.apply(try event.decode(MembershipEvent.self), active: event.type != MembershipEvent.removed, event: event)
    }
}
