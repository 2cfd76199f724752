import Contracts
import Foundation
import Persistence
import PostgresNIO

/// Completing and reopening, with the rules that guard completion.
extension TaskStore {
    /// Completes the task. Open subtasks refuse it unless `cascade`, which completes them
    /// too (deepest first); open tasks it depends on always refuse it.
    func complete(_ id: UUID, tenant: UUID, actor: String, cascade: Bool) async throws -> TaskItem {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
            if current.status == .done { return current }
            try await checkCompletable(id, cascade: cascade, on: connection)
            if cascade {
                for child in try await openDescendants(id, on: connection) {
                    guard let open = try await fetch(child, on: connection, lock: true) else { continue }
                    _ = try await write(open.with(status: .done), over: open, tenant: tenant, actor: actor, on: connection)
                }
            }
            return try await write(current.with(status: .done), over: current, tenant: tenant, actor: actor, on: connection)
        }
    }

    func reopen(_ id: UUID, tenant: UUID, actor: String) async throws -> TaskItem {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
            if current.status.isOpen { return current }
            return try await write(current.with(status: .todo), over: current, tenant: tenant, actor: actor, on: connection)
        }
    }

    /// 409 material: open subtasks (unless they are to be completed too) and open blockers.
    func checkCompletable(_ id: UUID, cascade: Bool, on connection: PostgresConnection) async throws {
        if !cascade {
            let open = try await openDescendants(id, on: connection)
            if !open.isEmpty { throw TaskStoreError.openSubtasks(open) }
        }
        var blockers: [UUID] = []
        for try await blocker in try await connection.query(
            """
            SELECT b.id FROM tasks.task_dependencies d JOIN tasks.tasks b ON b.tenant_id = d.tenant_id AND b.id = d.depends_on
            WHERE d.task_id = \(id) AND b.status NOT IN ('done', 'cancelled') AND b.deleted_at IS NULL ORDER BY b.id
            """, logger: database.logger
        ).decode(UUID.self) {
            blockers.append(blocker)
        }
        if !blockers.isEmpty { throw TaskStoreError.openBlockers(blockers) }
    }

    /// Open tasks anywhere under `id`, deepest last.
    func openDescendants(_ id: UUID, on connection: PostgresConnection) async throws -> [UUID] {
        var open: [UUID] = []
        for try await child in try await connection.query(
            """
            WITH RECURSIVE subtree AS (
              SELECT id, status, 1 AS level FROM tasks.tasks WHERE parent_id = \(id) AND deleted_at IS NULL
              UNION ALL SELECT t.id, t.status, s.level + 1 FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at IS NULL
            )
            SELECT id FROM subtree WHERE status NOT IN ('done', 'cancelled') ORDER BY level DESC, id
            """, logger: database.logger
        ).decode(UUID.self) {
            open.append(child)
        }
        return open
    }
}

extension TaskItem {
    func with(status: TaskStatus) -> TaskItem {
        var copy = self
        copy.status = status
        return copy
    }
}
