import Contracts
import Foundation

enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case todo, inProgress = "in_progress", done, cancelled
}

enum TaskPriority: String, Codable, Sendable, CaseIterable {
    case low, medium, high, urgent
}

/// A task as the API shows it (named TaskItem so it does not shadow Swift's `Task`).
struct TaskItem: Codable, Sendable, Equatable {
    var id: UUID
    var projectId: UUID?
    var parentId: UUID?
    var title: String
    var description: String?
    var status: TaskStatus
    var priority: TaskPriority
    var tags: [String]
    var dueAt: Date?
    var assigneeId: UUID?
    var estimateMinutes: Int?
    /// When the assignee (or, without one, the creator) is reminded.
    var remindAt: Date?
    var createdBy: UUID?
    var version: Int
    var createdAt: Date
    var updatedAt: Date
    var completedAt: Date?

    /// The `ETag` of this version (RFC 9110 §8.8.3), checked by `If-Match` on updates.
    var etag: String { "\"v\(version)\"" }

    func changedEvent(tenantID: UUID) -> TaskChanged {
        TaskChanged(
            taskId: id, tenantId: tenantID, projectId: projectId, parentId: parentId, title: title, description: description,
            status: status.rawValue, priority: priority.rawValue, tags: tags, dueAt: dueAt, assigneeId: assigneeId,
            version: version, occurredAt: updatedAt)
    }

    /// Which event type a change from `previous` to `self` is.
    func eventType(after previous: TaskItem?) -> String {
        guard let previous else { return TaskChanged.created }
        if status == .done && previous.status != .done { return TaskChanged.completed }
        if previous.status == .done && status != .done { return TaskChanged.reopened }
        return TaskChanged.updated
    }
}
