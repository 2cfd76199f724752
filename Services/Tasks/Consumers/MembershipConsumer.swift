import Contracts
import Foundation
import Messaging
import Persistence
import PostgresNIO

/// Learns the tenant's members from `auth.membership.v1` (each event once, older versions
/// ignored): only members can be assigned tasks, and a removed member's open tasks lose
/// their assignee.
///
/// Duplicates: inbox (the event id, in the transaction of the effect), and a version guard
/// for events that arrive out of order.
struct MembershipConsumer: EventHandling {
    static let group = "tasks.membership"
    let topics = [Topics.authMembership]
    let store: TaskStore
    let inbox: Inbox

    init(store: TaskStore) {
        self.store = store
        self.inbox = Inbox(schema: store.database.schema, consumer: Self.group)
    }

    func handle(_ event: EventEnvelope) async throws {
        guard [MembershipEvent.added, MembershipEvent.roleChanged, MembershipEvent.removed].contains(event.type) else { return }
        let membership = try event.decode(MembershipEvent.self)
        let active = event.type != MembershipEvent.removed
        try await store.database.withTenant(event.tenantID) { connection in
            guard try await inbox.claim(eventID: event.id, topic: event.topic, on: connection) else { return }
            var applied = false
            for try await _ in try await connection.query(
                """
                INSERT INTO tasks.members (tenant_id, user_id, role, active, version)
                VALUES (\(membership.tenantId), \(membership.userId), \(membership.role), \(active), \(Int64(membership.version)))
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role, active = excluded.active, version = excluded.version, updated_at = now()
                WHERE members.version < excluded.version
                RETURNING 1
                """, logger: store.database.logger)
            {
                applied = true
            }
            guard applied, !active else { return }
            try await unassign(membership.userId, tenant: event.tenantID, on: connection)
        }
    }

    /// Open tasks of a removed member go back to nobody, each with its event.
    private func unassign(_ user: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: TaskStore.columns) FROM tasks.tasks
            WHERE assignee_id = \(user) AND deleted_at IS NULL AND status NOT IN ('done', 'cancelled') FOR UPDATE
            """, logger: store.database.logger)
        for task in try await TaskStore.tasks(rows) {
            var next = task
            next.assigneeId = nil
            _ = try await store.write(next, over: task, tenant: tenant, actor: "membership", on: connection)
        }
    }
}
