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
    case tooDeep
    case archivedProject
    case notAMember
    case bulkRefused([BulkFailure])
    case openSubtasks([UUID])
    case openBlockers([UUID])
    case dependencyCycle([UUID])
}

/// SQL for tasks. Every method runs inside `withTenant`, and every change writes its
/// event to the outbox in the same transaction.
struct TaskStore: Sendable {
    let database: Database
    static let source = "/services/tasks"

    /// Every column of a task, plus what is derived on each read: `blocked` (an open task
    /// it depends on exists) and `progress` (done subtasks / subtasks not cancelled).
    static let columns = """
        id, project_id, parent_id, title, description, status, priority, tags, due_at, time_zone, position, assignee_id,
        estimate_minutes, remind_at, recurrence, occurrence, created_by, version, created_at, updated_at, completed_at,
        EXISTS (SELECT 1 FROM tasks.task_dependencies d JOIN tasks.tasks b ON b.tenant_id = d.tenant_id AND b.id = d.depends_on
                WHERE d.tenant_id = tasks.tenant_id AND d.task_id = tasks.id AND b.status NOT IN ('done', 'cancelled')
                  AND b.deleted_at IS NULL) AS blocked,
        (SELECT count(*) FILTER (WHERE c.status = 'done')::float8 / NULLIF(count(*) FILTER (WHERE c.status <> 'cancelled'), 0)
           FROM tasks.tasks c WHERE c.tenant_id = tasks.tenant_id AND c.parent_id = tasks.id AND c.deleted_at IS NULL) AS progress
        """

    static func task(_ row: PostgresRow) throws -> TaskItem {
        let r = row.makeRandomAccess()
        return TaskItem(
            id: try r["id"].decode(UUID.self), projectId: try r["project_id"].decode(UUID?.self), parentId: try r["parent_id"].decode(UUID?.self),
            title: try r["title"].decode(String.self), description: try r["description"].decode(String?.self),
            status: TaskStatus(rawValue: try r["status"].decode(String.self)) ?? .todo, priority: Int(try r["priority"].decode(Int16.self)),
            tags: try r["tags"].decode([String].self), dueAt: try r["due_at"].decode(Date?.self), timeZone: try r["time_zone"].decode(String.self),
            position: try r["position"].decode(Int64.self), assigneeId: try r["assignee_id"].decode(UUID?.self),
            estimateMinutes: try r["estimate_minutes"].decode(Int?.self), remindAt: try r["remind_at"].decode(Date?.self),
            recurrence: try r["recurrence"].decode(String?.self), occurrence: try r["occurrence"].decode(Int.self),
            createdBy: try r["created_by"].decode(UUID?.self), version: try r["version"].decode(Int.self),
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self),
            completedAt: try r["completed_at"].decode(Date?.self), blocked: try r["blocked"].decode(Bool.self),
            progress: try r["progress"].decode(Double?.self))
    }

    static func tasks(_ rows: PostgresRowSequence) async throws -> [TaskItem] {
        var tasks: [TaskItem] = []
        for try await row in rows { tasks.append(try task(row)) }
        return tasks
    }

    /// `position` nil: after the last sibling.
    func create(_ task: TaskItem, position: Int64?, tenant: UUID, actor: String) async throws -> TaskItem {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                try await insert(task, position: position, tenant: tenant, actor: actor, on: connection)
            }
        }
    }

    /// Creates the task in the caller's transaction: references checked, reminder job,
    /// event and activity entry written with it.
    func insert(_ task: TaskItem, position: Int64?, tenant: UUID, actor: String, on connection: PostgresConnection) async throws -> TaskItem {
        try await checkReferences(projectId: task.projectId, parentId: task.parentId, of: task.id, isNew: true, on: connection)
        if let assignee = task.assigneeId { try await checkAssignee(assignee, on: connection) }
        let rows = try await connection.query(
            """
            INSERT INTO tasks.tasks (id, tenant_id, project_id, parent_id, title, description, status, priority, tags,
                                     due_at, time_zone, position, assignee_id, estimate_minutes, remind_at, recurrence, occurrence,
                                     created_by, completed_at)
            VALUES (\(task.id), \(tenant), \(task.projectId), \(task.parentId), \(task.title), \(task.description),
                    \(task.status.rawValue), \(Int16(task.priority)), \(task.tags), \(task.dueAt), \(task.timeZone),
                    COALESCE(\(position), (SELECT COALESCE(max(position), 0) + 1024 FROM tasks.tasks
                                           WHERE parent_id IS NOT DISTINCT FROM \(task.parentId)
                                             AND project_id IS NOT DISTINCT FROM \(task.projectId) AND deleted_at IS NULL)),
                    \(task.assigneeId), \(task.estimateMinutes), \(task.remindAt), \(task.recurrence), \(task.occurrence), \(task.createdBy),
                    CASE WHEN \(task.status.rawValue) = 'done' THEN now() END)
            RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        guard let created = try await Self.tasks(rows).first else { throw TaskStoreError.notFound }
        try await scheduleReminder(created, tenant: tenant, on: connection)
        try await publish(created, after: nil, tenant: tenant, on: connection)
        try await ActivityLog.record(
            created.id, tenant: tenant, actor: actor, action: "created", changes: ActivityLog.fields(of: created), on: connection)
        return created
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
        _ id: UUID, tenant: UUID, actor: String, expectedVersion: Int?, change: @Sendable (TaskItem) throws -> TaskItem
    ) async throws -> TaskItem {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, on: connection, lock: true) else { throw TaskStoreError.notFound }
                if let expectedVersion, expectedVersion != current.version {
                    throw TaskStoreError.versionMismatch(current: current.version)
                }
                return try await write(try change(current), over: current, tenant: tenant, actor: actor, on: connection)
            }
        }
    }

    /// Writes `next` over `current` (locked by the caller): the reference, depth and
    /// completion rules, the row, a reminder job if the reminder moved, the event and the
    /// activity entry, all in the caller's transaction.
    func write(_ next: TaskItem, over current: TaskItem, tenant: UUID, actor: String, on connection: PostgresConnection) async throws -> TaskItem {
        let id = current.id
        if next.parentId != current.parentId || next.projectId != current.projectId {
            try await checkReferences(projectId: next.projectId, parentId: next.parentId, of: id, isNew: false, on: connection)
        }
        if next.status == .done, current.status != .done {
            try await checkCompletable(id, cascade: false, on: connection)
        }
        if let assignee = next.assigneeId, assignee != current.assigneeId { try await checkAssignee(assignee, on: connection) }
        let rows = try await connection.query(
            """
            UPDATE tasks.tasks SET
              project_id = \(next.projectId), parent_id = \(next.parentId), title = \(next.title),
              description = \(next.description), status = \(next.status.rawValue), priority = \(Int16(next.priority)),
              tags = \(next.tags), due_at = \(next.dueAt), time_zone = \(next.timeZone), position = \(next.position),
              assignee_id = \(next.assigneeId),
              estimate_minutes = \(next.estimateMinutes), remind_at = \(next.remindAt), recurrence = \(next.recurrence),
              version = version + 1, updated_at = now(),
              completed_at = CASE WHEN \(next.status.rawValue) = 'done' THEN COALESCE(completed_at, now()) END
            WHERE id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        guard let updated = try await Self.tasks(rows).first else { throw TaskStoreError.notFound }
        if updated.remindAt != current.remindAt { try await scheduleReminder(updated, tenant: tenant, on: connection) }
        if updated.status == .done, current.status != .done, updated.recurrence != nil {
            // The next occurrence is a job: made once, and not lost if this process dies.
            try await JobQueue(schema: database.schema).enqueue(
                TaskJobs.recur, RecurArguments(taskId: id), tenant: tenant, options: .init(uniqueKey: "recur:\(id.uuidString.lowercased())"),
                on: connection)
        }
        try await publish(updated, after: current, tenant: tenant, on: connection)
        try await ActivityLog.record(
            id, tenant: tenant, actor: actor, action: updated.eventType(after: current).replacingOccurrences(of: "tasks.task.", with: ""),
            changes: ActivityLog.changes(from: current, to: updated), on: connection)
        return updated
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
            try .make(
                task.changedEvent(tenantID: tenant, after: previous), type: task.eventType(after: previous), on: Topics.tasksTask,
                source: Self.source, tenantID: tenant),
            on: connection)
    }

    /// A project or parent must be visible in this tenant, a task cannot sit under its own
    /// subtree, and the tree stays within `TaskRules.maxDepth` levels.
    func checkReferences(projectId: UUID?, parentId: UUID?, of taskID: UUID, isNew: Bool, on connection: PostgresConnection) async throws {
        if let projectId {
            var archived: Bool?
            for try await isArchived in try await connection.query(
                "SELECT archived_at IS NOT NULL FROM tasks.projects WHERE id = \(projectId)", logger: database.logger
            ).decode(Bool.self) {
                archived = isArchived
            }
            guard let archived else { throw TaskStoreError.unknownReference(field: "projectId") }
            if archived { throw TaskStoreError.archivedProject }
        }
        guard let parentId else { return }
        if parentId == taskID { throw TaskStoreError.parentCycle }
        let rows = try await connection.query(
            """
            WITH RECURSIVE ancestors AS (
              SELECT id, parent_id FROM tasks.tasks WHERE id = \(parentId) AND deleted_at IS NULL
              UNION SELECT t.id, t.parent_id FROM tasks.tasks t JOIN ancestors a ON t.id = a.parent_id
            )
            SELECT count(*)::int, count(*) FILTER (WHERE id = \(taskID))::int FROM ancestors
            """, logger: database.logger)
        var parentLevel = 0
        for try await (found, cycle) in rows.decode((Int, Int).self) {
            if found == 0 { throw TaskStoreError.unknownReference(field: "parentId") }
            if cycle > 0 { throw TaskStoreError.parentCycle }
            parentLevel = found
        }
        // The moved task brings its own subtree: its height counts too.
        var height = 1
        if !isNew {
            for try await levels in try await connection.query(
                """
                WITH RECURSIVE subtree AS (
                  SELECT id, 1 AS level FROM tasks.tasks WHERE id = \(taskID)
                  UNION ALL SELECT t.id, s.level + 1 FROM tasks.tasks t JOIN subtree s ON t.parent_id = s.id WHERE t.deleted_at IS NULL
                )
                SELECT max(level)::int FROM subtree
                """, logger: database.logger
            ).decode(Int?.self) {
                height = levels ?? 1
            }
        }
        if parentLevel + height > TaskRules.maxDepth { throw TaskStoreError.tooDeep }
    }

    /// Only an active member of the tenant (as `auth.membership.v1` told us) takes tasks.
    func checkAssignee(_ user: UUID, on connection: PostgresConnection) async throws {
        for try await active in try await connection.query(
            "SELECT active FROM tasks.members WHERE user_id = \(user)", logger: database.logger
        ).decode(Bool.self) where active {
            return
        }
        throw TaskStoreError.notAMember
    }

    /// A reference that vanished between the check and the write still maps to 422.
    func mapReferenceErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.foreignKeyViolation {
            throw TaskStoreError.unknownReference(field: error.sqlConstraint?.contains("parent") == true ? "parentId" : "projectId")
        }
    }
}
