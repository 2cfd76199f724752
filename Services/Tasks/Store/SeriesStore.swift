import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Makes the next occurrence of a completed recurring task, once: `next_occurrence_id` is
/// written with the new task, so a job that runs again finds it and does nothing.
struct SeriesStore: Sendable {
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
