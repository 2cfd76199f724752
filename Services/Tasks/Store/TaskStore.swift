import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

enum TaskStoreError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int)
    case unknownReference(field: String)
    case parentCycle
}

/// SQL for tasks. Every method runs inside `withTenant`, and every change writes its
/// event to the outbox in the same transaction.
struct TaskStore: Sendable {
    let database: Database
    static let source = "/services/tasks"

    static let columns = """
        id, project_id, parent_id, title, description, status, priority, tags, due_at, assignee_id,
        estimate_minutes, version, created_at, updated_at, completed_at
        """

    typealias Row = (UUID, UUID?, UUID?, String, String?, String, String, [String], Date?, UUID?, Int?, Int, Date, Date, Date?)

    static func task(_ row: Row) -> TaskItem {
        TaskItem(
            id: row.0, projectId: row.1, parentId: row.2, title: row.3, description: row.4,
            status: TaskStatus(rawValue: row.5) ?? .todo, priority: TaskPriority(rawValue: row.6) ?? .medium, tags: row.7,
            dueAt: row.8, assigneeId: row.9, estimateMinutes: row.10, version: row.11, createdAt: row.12, updatedAt: row.13,
            completedAt: row.14)
    }

    func create(_ task: TaskItem, tenant: UUID) async throws -> TaskItem {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                try await checkReferences(projectId: task.projectId, parentId: task.parentId, of: task.id, on: connection)
                let rows = try await connection.query(
                    """
                    INSERT INTO tasks.tasks (id, tenant_id, project_id, parent_id, title, description, status, priority, tags,
                                             due_at, assignee_id, estimate_minutes, completed_at)
                    VALUES (\(task.id), \(tenant), \(task.projectId), \(task.parentId), \(task.title), \(task.description),
                            \(task.status.rawValue), \(task.priority.rawValue), \(task.tags), \(task.dueAt), \(task.assigneeId),
                            \(task.estimateMinutes), CASE WHEN \(task.status.rawValue) = 'done' THEN now() END)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await rows.decode(Row.self).first(where: { _ in true }).map(Self.task) else {
                    throw TaskStoreError.notFound
                }
                try await publish(created, after: nil, tenant: tenant, on: connection)
                return created
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> TaskItem {
        try await database.withTenant(tenant) { connection in
            guard let task = try await fetch(id, on: connection, lock: false) else { throw TaskStoreError.notFound }
            return task
        }
    }

    func fetch(_ id: UUID, on connection: PostgresConnection, lock: Bool) async throws -> TaskItem? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM tasks.tasks WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: database.logger)
        return try await rows.decode(Row.self).first(where: { _ in true }).map(Self.task)
    }

    /// Applies `change` to the current task under a row lock. `expectedVersion` (from
    /// `If-Match`) refuses the update if someone else changed the task first.
    func update(
        _ id: UUID, tenant: UUID, expectedVersion: Int?, change: @Sendable (TaskItem) throws -> TaskItem
    ) async throws -> TaskItem {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
                if let expectedVersion, expectedVersion != current.version {
                    throw TaskStoreError.versionMismatch(current: current.version)
                }
                let next = try change(current)
                if next.parentId != current.parentId || next.projectId != current.projectId {
                    try await checkReferences(projectId: next.projectId, parentId: next.parentId, of: id, on: connection)
                }
                let rows = try await connection.query(
                    """
                    UPDATE tasks.tasks SET
                      project_id = \(next.projectId), parent_id = \(next.parentId), title = \(next.title),
                      description = \(next.description), status = \(next.status.rawValue), priority = \(next.priority.rawValue),
                      tags = \(next.tags), due_at = \(next.dueAt), assignee_id = \(next.assigneeId),
                      estimate_minutes = \(next.estimateMinutes), version = version + 1, updated_at = now(),
                      completed_at = CASE WHEN \(next.status.rawValue) = 'done' THEN COALESCE(completed_at, now()) END
                    WHERE id = \(id)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await rows.decode(Row.self).first(where: { _ in true }).map(Self.task) else {
                    throw TaskStoreError.notFound
                }
                try await publish(updated, after: current, tenant: tenant, on: connection)
                return updated
            }
        }
    }

    /// Deletes the task and its subtasks, with a deleted event for each.
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
            if let expectedVersion, expectedVersion != current.version {
                throw TaskStoreError.versionMismatch(current: current.version)
            }
            let rows = try await connection.query(
                """
                WITH RECURSIVE subtree AS (
                  SELECT id FROM tasks.tasks WHERE id = \(id)
                  UNION SELECT t.id FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id
                )
                DELETE FROM tasks.tasks WHERE id IN (SELECT id FROM subtree) RETURNING id, version
                """, logger: database.logger)
            let now = Date()
            for try await (deletedID, version) in rows.decode((UUID, Int).self) {
                try await database.outbox.append(
                    try .make(
                        TaskDeleted(taskId: deletedID, tenantId: tenant, version: version + 1, occurredAt: now),
                        type: TaskDeleted.type, on: Topics.tasksTask, source: Self.source, tenantID: tenant),
                    on: connection)
            }
        }
    }

    struct Filter: Sendable {
        var status: TaskStatus?
        var parentId: UUID?
        var projectId: UUID?
    }

    /// Newest first; the cursor is the id of the last task of the previous page (ids are UUIDv7).
    func list(tenant: UUID, filter: Filter, after cursor: UUID?, limit: Int) async throws -> [TaskItem] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM tasks.tasks
                WHERE (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
                  AND (\(filter.parentId)::uuid IS NULL OR parent_id = \(filter.parentId))
                  AND (\(filter.projectId)::uuid IS NULL OR project_id = \(filter.projectId))
                  AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                ORDER BY id DESC LIMIT \(limit)
                """, logger: database.logger)
            var result: [TaskItem] = []
            for try await row in rows.decode(Row.self) { result.append(Self.task(row)) }
            return result
        }
    }

    func publish(_ task: TaskItem, after previous: TaskItem?, tenant: UUID, on connection: PostgresConnection) async throws {
        try await database.outbox.append(
            try .make(task.changedEvent(tenantID: tenant), type: task.eventType(after: previous), on: Topics.tasksTask, source: Self.source, tenantID: tenant),
            on: connection)
    }

    /// A project or parent must be visible in this tenant, and a task cannot sit under its own subtree.
    func checkReferences(projectId: UUID?, parentId: UUID?, of taskID: UUID, on connection: PostgresConnection) async throws {
        if let projectId {
            let rows = try await connection.query("SELECT 1 FROM tasks.projects WHERE id = \(projectId)", logger: database.logger)
            if try await rows.decode(Int.self).first(where: { _ in true }) == nil { throw TaskStoreError.unknownReference(field: "projectId") }
        }
        if let parentId {
            if parentId == taskID { throw TaskStoreError.parentCycle }
            let rows = try await connection.query(
                """
                WITH RECURSIVE ancestors AS (
                  SELECT id, parent_id FROM tasks.tasks WHERE id = \(parentId)
                  UNION SELECT t.id, t.parent_id FROM tasks.tasks t JOIN ancestors a ON t.id = a.parent_id
                )
                SELECT count(*)::int, count(*) FILTER (WHERE id = \(taskID))::int FROM ancestors
                """, logger: database.logger)
            for try await (found, cycle) in rows.decode((Int, Int).self) {
                if found == 0 { throw TaskStoreError.unknownReference(field: "parentId") }
                if cycle > 0 { throw TaskStoreError.parentCycle }
            }
        }
    }

    /// A reference that vanished between the check and the write still maps to 422.
    func mapReferenceErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where error.sqlState == SQLState.foreignKeyViolation {
            throw TaskStoreError.unknownReference(field: error.sqlConstraint?.contains("parent") == true ? "parentId" : "projectId")
        }
    }
}
