import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

enum TaskStoreError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int)
    case unknownReference(field: String)
    case parentCycle
    case parentInBin
    case notInBin
}

/// SQL for tasks. Every method runs inside `withTenant`, and every change writes its
/// event to the outbox in the same transaction.
struct TaskStore: Sendable {
    let database: Database
    static let source = "/services/tasks"

    static let columns = """
        id, project_id, parent_id, title, description, status, priority, tags, due_at, assignee_id,
        estimate_minutes, remind_at, created_by, version, created_at, updated_at, completed_at
        """

    static func task(_ row: PostgresRow) throws -> TaskItem {
        let r = row.makeRandomAccess()
        return TaskItem(
            id: try r["id"].decode(UUID.self), projectId: try r["project_id"].decode(UUID?.self), parentId: try r["parent_id"].decode(UUID?.self),
            title: try r["title"].decode(String.self), description: try r["description"].decode(String?.self),
            status: TaskStatus(rawValue: try r["status"].decode(String.self)) ?? .todo,
            priority: TaskPriority(rawValue: try r["priority"].decode(String.self)) ?? .medium, tags: try r["tags"].decode([String].self),
            dueAt: try r["due_at"].decode(Date?.self), assigneeId: try r["assignee_id"].decode(UUID?.self),
            estimateMinutes: try r["estimate_minutes"].decode(Int?.self), remindAt: try r["remind_at"].decode(Date?.self),
            createdBy: try r["created_by"].decode(UUID?.self), version: try r["version"].decode(Int.self),
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self),
            completedAt: try r["completed_at"].decode(Date?.self))
    }

    static func tasks(_ rows: PostgresRowSequence) async throws -> [TaskItem] {
        var tasks: [TaskItem] = []
        for try await row in rows { tasks.append(try task(row)) }
        return tasks
    }

    func create(_ task: TaskItem, tenant: UUID) async throws -> TaskItem {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                try await checkReferences(projectId: task.projectId, parentId: task.parentId, of: task.id, on: connection)
                let rows = try await connection.query(
                    """
                    INSERT INTO tasks.tasks (id, tenant_id, project_id, parent_id, title, description, status, priority, tags,
                                             due_at, assignee_id, estimate_minutes, remind_at, created_by, completed_at)
                    VALUES (\(task.id), \(tenant), \(task.projectId), \(task.parentId), \(task.title), \(task.description),
                            \(task.status.rawValue), \(task.priority.rawValue), \(task.tags), \(task.dueAt), \(task.assigneeId),
                            \(task.estimateMinutes), \(task.remindAt), \(task.createdBy), CASE WHEN \(task.status.rawValue) = 'done' THEN now() END)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.tasks(rows).first else { throw TaskStoreError.notFound }
                try await scheduleReminder(created, tenant: tenant, on: connection)
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
            "SELECT \(unescaped: Self.columns) FROM tasks.tasks WHERE id = \(id) AND deleted_at IS NULL \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: database.logger)
        return try await Self.tasks(rows).first
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
                      estimate_minutes = \(next.estimateMinutes), remind_at = \(next.remindAt), version = version + 1, updated_at = now(),
                      completed_at = CASE WHEN \(next.status.rawValue) = 'done' THEN COALESCE(completed_at, now()) END
                    WHERE id = \(id)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await Self.tasks(rows).first else { throw TaskStoreError.notFound }
                if updated.remindAt != current.remindAt { try await scheduleReminder(updated, tenant: tenant, on: connection) }
                try await publish(updated, after: current, tenant: tenant, on: connection)
                return updated
            }
        }
    }

    /// Moves the task and its subtasks to the bin (restorable for 30 days), with a
    /// deleted event for each.
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
                  UNION SELECT t.id FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at IS NULL
                )
                UPDATE tasks.tasks SET deleted_at = now(), version = version + 1, updated_at = now()
                WHERE id IN (SELECT id FROM subtree) RETURNING id, version
                """, logger: database.logger)
            let now = Date()
            for try await (deletedID, version) in rows.decode((UUID, Int).self) {
                try await database.outbox.append(
                    try .make(
                        TaskDeleted(taskId: deletedID, tenantId: tenant, version: version, occurredAt: now),
                        type: TaskDeleted.type, on: Topics.tasksTask, source: Self.source, tenantID: tenant),
                    on: connection)
            }
        }
    }

    static let binDays = 30

    /// Brings a binned task back with the subtasks binned with it (same moment), unless its
    /// parent is still in the bin (restore that first) or its 30 days are over.
    func restore(_ id: UUID, tenant: UUID) async throws -> TaskItem {
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
            for task in restored {
                try await database.outbox.append(
                    try .make(task.changedEvent(tenantID: tenant), type: TaskChanged.restored, on: Topics.tasksTask, source: Self.source, tenantID: tenant),
                    on: connection)
            }
            guard let task = restored.first(where: { $0.id == id }) else { throw TaskStoreError.notFound }
            return task
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
                WHERE deleted_at IS NULL AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
                  AND (\(filter.parentId)::uuid IS NULL OR parent_id = \(filter.parentId))
                  AND (\(filter.projectId)::uuid IS NULL OR project_id = \(filter.projectId))
                  AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                ORDER BY id DESC LIMIT \(limit)
                """, logger: database.logger)
            return try await Self.tasks(rows)
        }
    }

    /// A job at the reminder time; it checks the task is still due a reminder when it runs.
    func scheduleReminder(_ task: TaskItem, tenant: UUID, on connection: PostgresConnection) async throws {
        guard let remindAt = task.remindAt else { return }
        try await JobQueue(schema: database.schema).enqueue(
            TaskJobs.reminder, ReminderArguments(taskId: task.id, remindAt: remindAt), tenant: tenant,
            options: .init(runAt: remindAt, uniqueKey: ReminderArguments.uniqueKey(task.id, remindAt)), on: connection)
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
                  SELECT id, parent_id FROM tasks.tasks WHERE id = \(parentId) AND deleted_at IS NULL
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
