import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The bin: deleted tasks stay restorable for `binDays`, then `Bin` (a cron job) purges them.
extension TaskStore {
    /// Moves the task and its subtasks to the bin (restorable for 30 days), with a
    /// deleted event for each.
    func delete(_ id: UUID, tenant: UUID, actor: String, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
            if let expectedVersion, expectedVersion != current.version {
                throw TaskStoreError.versionMismatch(current: current.version)
            }
            _ = try await bin(id, tenant: tenant, actor: actor, on: connection)
        }
    }

    /// Bins the task and its live subtasks in the caller's transaction; answers their ids.
    func bin(_ id: UUID, tenant: UUID, actor: String, on connection: PostgresConnection) async throws -> [UUID] {
        let rows = try await connection.query(
            """
            WITH RECURSIVE subtree AS (
              SELECT id FROM tasks.tasks WHERE id = \(id) AND deleted_at IS NULL
              UNION SELECT t.id FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at IS NULL
            )
            UPDATE tasks.tasks SET deleted_at = now(), version = version + 1, updated_at = now()
            WHERE id IN (SELECT id FROM subtree) RETURNING id, version
            """, logger: database.logger)
        let now = Date()
        var binned: [UUID] = []
        for try await (deletedID, version) in rows.decode((UUID, Int).self) {
            binned.append(deletedID)
            try await connection.query(
                "INSERT INTO tasks.binned_tasks (tenant_id, task_id, deleted_at) VALUES (\(tenant), \(deletedID), now())", logger: database.logger)
            try await database.outbox.append(
                try .make(
                    TaskDeleted(taskId: deletedID, tenantId: tenant, version: version, occurredAt: now),
                    type: TaskDeleted.type, on: Topics.tasksTask, source: Self.source, tenantID: tenant),
                on: connection)
            try await ActivityLog.record(deletedID, tenant: tenant, actor: actor, action: "deleted", changes: [:], on: connection)
        }
        return binned
    }

    static let binDays = 30

    /// Brings a binned task back with the subtasks binned with it (same moment), unless its
    /// parent is still in the bin (restore that first) or its 30 days are over.
    func restore(_ id: UUID, tenant: UUID, actor: String) async throws -> TaskItem {
        try await database.withTenant(tenant) { connection in
            var found: (Date?, UUID?)?
            for try await row in try await connection.query(
                "SELECT deleted_at, parent_id FROM tasks.tasks WHERE id = \(id) FOR UPDATE", logger: database.logger
            ).decode((Date?, UUID?).self) {
                found = row
            }
            guard let (binnedAt, parentID) = found else { throw TaskStoreError.notFound }
            guard let deletedAt = binnedAt else { throw TaskStoreError.notInBin }
            // Past its 30 days it is as good as purged.
            guard deletedAt > Date().addingTimeInterval(-Double(Self.binDays) * 86400) else { throw TaskStoreError.notFound }
            if let parentID {
                let parentBinned = try await connection.query(
                    "SELECT 1 FROM tasks.tasks WHERE id = \(parentID) AND deleted_at IS NOT NULL", logger: database.logger)
                for try await _ in parentBinned { throw TaskStoreError.parentInBin }
            }
            let rows = try await connection.query(
                """
                WITH RECURSIVE subtree AS (
                  SELECT id FROM tasks.tasks WHERE id = \(id)
                  UNION SELECT t.id FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at = \(deletedAt)
                )
                UPDATE tasks.tasks SET deleted_at = NULL, version = version + 1, updated_at = now()
                WHERE id IN (SELECT id FROM subtree) RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            let restored = try await Self.tasks(rows)
            try await connection.query(
                "DELETE FROM tasks.binned_tasks WHERE tenant_id = \(tenant) AND task_id = ANY(\(restored.map(\.id)))", logger: database.logger)
            for task in restored {
                try await database.outbox.append(
                    try .make(
                        task.changedEvent(tenantID: tenant), type: TaskChanged.restored, on: Topics.tasksTask, source: Self.source, tenantID: tenant),
                    on: connection)
                try await ActivityLog.record(task.id, tenant: tenant, actor: actor, action: "restored", changes: [:], on: connection)
            }
            guard let task = restored.first(where: { $0.id == id }) else { throw TaskStoreError.notFound }
            return task
        }
    }
}
