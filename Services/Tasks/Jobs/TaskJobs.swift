import Contracts
import Foundation
import Jobs
import Logging
import Persistence
import PostgresNIO

struct ReminderArguments: Codable, Sendable {
    var taskId: UUID
    var remindAt: Date

    static func uniqueKey(_ task: UUID, _ remindAt: Date) -> String {
        "\(task.uuidString.lowercased()):\(Int64(remindAt.timeIntervalSince1970 * 1000))"
    }
}

struct PurgeArguments: Codable, Sendable {}

struct RecurArguments: Codable, Sendable {
    var taskId: UUID
}

/// The tasks service's background work: kinds, handlers, crons and queues.
struct TaskJobs: ServiceJobs {
    let database: Database

    static let reminder = JobKind<ReminderArguments>("tasks.reminder", queue: "reminders", maxAttempts: 25, timeout: .seconds(30))
    static let purgeBin = JobKind<PurgeArguments>("tasks.purge-bin", maxAttempts: 5, timeout: .seconds(300))
    static let importRows = JobKind<ImportJobArguments>("tasks.import", maxAttempts: 5, timeout: .seconds(1800))
    static let recur = JobKind<RecurArguments>("tasks.recur", maxAttempts: 25, timeout: .seconds(30))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let reminders = Reminders(database: database)
        registry.register(Self.reminder) { arguments, context in try await reminders.send(arguments, context: context) }
        let bin = Bin(database: database)
        registry.register(Self.purgeBin) { _, context in try await bin.purge(context: context) }
        let series = Series(store: TaskStore(database: database))
        registry.register(Self.recur) { arguments, context in try await series.next(after: arguments.taskId, context: context) }
        let importer = TaskImporter(store: TaskStore(database: database))
        registry.register(Self.importRows) { arguments, context in try await importer.runStored(arguments.importId, tenant: context.tenantID) }
        return registry
    }

    func crons() throws -> [Cron] {
        // Daily, in the quiet hours of most of the world.
        [try Cron("tasks.purge-bin", "17 3 * * *", kind: Self.purgeBin, arguments: PurgeArguments())]
    }

    var configuration: JobWorker.Configuration {
        var configuration = JobWorker.Configuration(queues: ["default": 4, "reminders": 20])
        configuration.lease = .seconds(30)
        return configuration
    }
}

/// Sends a task's reminder as a `notifications.request.v1` command through the outbox.
struct Reminders: Sendable {
    let database: Database

    /// Runs at least once per reminder: `reminded_at`, written in the same transaction as
    /// the request, makes a second run (after a crash) send nothing. The idempotency key
    /// lets the notifications service drop a duplicate should one ever get through.
    func send(_ arguments: ReminderArguments, context: JobContext) async throws {
        try await database.withTenant(context.tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT title, due_at, assignee_id, created_by, remind_at, reminded_at, status FROM tasks.tasks
                WHERE id = \(arguments.taskId) AND deleted_at IS NULL FOR UPDATE
                """, logger: context.logger)
            for try await (title, dueAt, assignee, creator, remindAt, remindedAt, status) in rows.decode(
                (String, Date?, UUID?, UUID?, Date?, Date?, String).self)
            {
                // Moved, cleared, already sent, or no longer open: nothing to do.
                guard let remindAt, abs(remindAt.timeIntervalSince(arguments.remindAt)) < 0.001, remindedAt != remindAt,
                    status != "done", status != "cancelled"
                else { return }
                guard let recipient = assignee ?? creator else {
                    context.logger.info("reminder has nobody to remind", metadata: ["task_id": "\(arguments.taskId)"])
                    return
                }
                var data = ["taskId": arguments.taskId.uuidString.lowercased(), "title": title]
                if let dueAt { data["dueAt"] = ISO8601DateFormatter().string(from: dueAt) }
                let request = NotificationRequest(
                    idempotencyKey: "task-reminder:" + ReminderArguments.uniqueKey(arguments.taskId, remindAt), tenantId: context.tenantID,
                    recipient: .init(userId: recipient), category: "tasks", templateKey: "task-reminder", data: data, channels: [],
                    priority: .normal, requestedAt: Date())
                try await database.outbox.append(
                    try .make(request, type: NotificationRequest.type, on: Topics.notificationsRequest, source: TaskStore.source, tenantID: context.tenantID),
                    on: connection)
                try await connection.query(
                    "UPDATE tasks.tasks SET reminded_at = remind_at WHERE id = \(arguments.taskId)", logger: context.logger)
            }
        }
    }
}

/// Tasks binned more than 30 days ago are deleted for good, subtasks with them, tenant by
/// tenant (the bin's index says which tenants have some).
struct Bin: Sendable {
    let database: Database

    func purge(context: JobContext) async throws {
        let cutoff = Date().addingTimeInterval(-Double(TaskStore.binDays) * 86400)
        var tenants: [UUID] = []
        for try await tenant in try await database.client.query(
            "SELECT DISTINCT tenant_id FROM tasks.binned_tasks WHERE deleted_at < \(cutoff)", logger: context.logger
        ).decode(UUID.self) {
            tenants.append(tenant)
        }
        var purged = 0
        for tenant in tenants {
            purged += try await database.withTenant(tenant) { connection in
                var count = 0
                for try await _ in try await connection.query(
                    "DELETE FROM tasks.tasks WHERE deleted_at < \(cutoff) RETURNING id", logger: context.logger)
                {
                    count += 1
                }
                try await connection.query(
                    "DELETE FROM tasks.binned_tasks WHERE tenant_id = \(tenant) AND deleted_at < \(cutoff)", logger: context.logger)
                return count
            }
        }
        context.logger.info("purged binned tasks", metadata: ["count": "\(purged)", "tenants": "\(tenants.count)"])
    }
}

/// Makes the next occurrence of a completed recurring task, once: `next_occurrence_id` is
/// written with the new task, so a job that runs again finds it and does nothing.
struct Series: Sendable {
    let store: TaskStore

    func next(after id: UUID, context: JobContext) async throws {
        try await store.database.withTenant(context.tenantID) { connection in
            var linked = true
            for try await next in try await connection.query(
                "SELECT next_occurrence_id FROM tasks.tasks WHERE id = \(id) AND deleted_at IS NULL FOR UPDATE", logger: context.logger
            ).decode(UUID?.self) {
                linked = next != nil
            }
            guard !linked, let done = try await store.fetch(id, on: connection, lock: false), done.status == .done, let rule = done.recurrence,
                let dueAt = done.dueAt, let recurrence = try? Recurrence(rule)
            else { return }
            let zone = TimeZone(identifier: done.timeZone) ?? .gmt
            guard let nextDue = recurrence.next(after: dueAt, index: done.occurrence, in: zone) else { return }
            let now = Date()
            var next = done
            next.id = .v7()
            next.status = .todo
            next.dueAt = nextDue
            next.remindAt = done.remindAt.map { nextDue.addingTimeInterval($0.timeIntervalSince(dueAt)) }
            next.occurrence = done.occurrence + 1
            next.version = 1
            next.createdAt = now
            next.updatedAt = now
            next.completedAt = nil
            let created: TaskItem
            do {
                created = try await store.insert(next, position: nil, tenant: context.tenantID, actor: "recurrence", on: connection)
            } catch TaskStoreError.notAMember {
                // The assignee left the tenant: the next occurrence is nobody's yet.
                next.assigneeId = nil
                created = try await store.insert(next, position: nil, tenant: context.tenantID, actor: "recurrence", on: connection)
            }
            try await connection.query(
                "UPDATE tasks.tasks SET next_occurrence_id = \(created.id) WHERE id = \(id)", logger: context.logger)
        }
    }
}
