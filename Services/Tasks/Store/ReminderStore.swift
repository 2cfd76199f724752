import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Sends a task's reminder as a `notifications.request.v1` command through the outbox.
struct ReminderStore: Sendable {
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
                    try .make(
                        request, type: NotificationRequest.type, on: Topics.notificationsRequest, source: TaskStore.source, tenantID: context.tenantID
                    ),
                    on: connection)
                try await connection.query(
                    "UPDATE tasks.tasks SET reminded_at = remind_at WHERE id = \(arguments.taskId)", logger: context.logger)
            }
        }
    }
}
