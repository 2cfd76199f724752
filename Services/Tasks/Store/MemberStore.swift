import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The tenant's members as auth announces them: only members can be assigned tasks.
struct MemberStore: Sendable {
    let tasks: TaskStore
    let inbox: Inbox
    var database: Database { tasks.database }

    init(tasks: TaskStore, consumer: String) {
        self.tasks = tasks
        self.inbox = Inbox(schema: tasks.database.schema, consumer: consumer)
    }

    /// Applies a membership event once (inbox) and only when newer than the one known;
    /// a removed member's open tasks lose their assignee, each with its event.
    func apply(_ membership: MembershipEvent, active: Bool, event: EventEnvelope) async throws {
        try await database.withTenant(event.tenantID) { connection in
            guard try await inbox.claim(eventID: event.id, topic: event.topic, on: connection) else { return }
            var applied = false
            for try await _ in try await connection.query(
                """
                INSERT INTO tasks.members (tenant_id, user_id, role, active, version)
                VALUES (\(membership.tenantId), \(membership.userId), \(membership.role), \(active), \(Int64(membership.version)))
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role, active = excluded.active, version = excluded.version, updated_at = now()
                WHERE members.version < excluded.version
                RETURNING 1
                """, logger: database.logger)
            {
                applied = true
            }
            guard applied, !active else { return }
            try await unassign(membership.userId, tenant: event.tenantID, on: connection)
        }
    }

    private func unassign(_ user: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: TaskStore.columns) FROM tasks.tasks
            WHERE assignee_id = \(user) AND deleted_at IS NULL AND status NOT IN ('done', 'cancelled') FOR UPDATE
            """, logger: database.logger)
        for task in try await TaskStore.tasks(rows) {
            var next = task
            next.assigneeId = nil
            _ = try await tasks.write(next, over: task, tenant: tenant, actor: "membership", on: connection)
        }
    }
}
