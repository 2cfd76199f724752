import Contracts
import Foundation

enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case todo
    case inProgress = "in_progress"
    case blocked, done, cancelled

    /// Done and cancelled tasks block nothing and count as finished.
    var isOpen: Bool { self != .done && self != .cancelled }
}

/// A task as the API shows it (named TaskItem so it does not shadow Swift's `Task`).
struct TaskItem: Codable, Sendable, Equatable {
    var id: UUID
    var projectId: UUID?
    var parentId: UUID?
    var title: String
    var description: String?
    var status: TaskStatus
    /// 0 none, 1 low, 2 medium, 3 high, 4 urgent.
    var priority: Int
    var tags: [String]
    var dueAt: Date?
    /// The IANA zone the due date and recurrence are read in.
    var timeZone: String
    /// Manual order among siblings (ascending).
    var position: Int64
    var assigneeId: UUID?
    var estimateMinutes: Int?
    /// When the assignee (or, without one, the creator) is reminded.
    var remindAt: Date?
    /// An RRULE (see `Recurrence`); needs a due date.
    var recurrence: String? = nil
    /// Which occurrence of its series this task is, from 1.
    var occurrence: Int = 1
    var createdBy: UUID?
    var version: Int
    var createdAt: Date
    var updatedAt: Date
    var completedAt: Date?
    /// Derived on every read: an open task this one depends on exists.
    var blocked: Bool = false
    /// Derived: done subtasks / subtasks that are not cancelled; nil without subtasks.
    var progress: Double?

    /// The `ETag` of this version (RFC 9110 §8.8.3), checked by `If-Match` on updates.
    var etag: String { "\"v\(version)\"" }

    /// The event for this state; after an update it names the fields that changed.
    func changedEvent(tenantID: UUID, after previous: TaskItem? = nil) -> TaskChanged {
        TaskChanged(
            taskId: id, tenantId: tenantID, projectId: projectId, parentId: parentId, title: title, description: description,
            status: status.rawValue, priority: priority, tags: tags, dueAt: dueAt, assigneeId: assigneeId,
            version: version, occurredAt: updatedAt, changedFields: changedFields(since: previous), createdBy: createdBy)
    }

    /// The API names of the fields that differ from `previous` (nil: no previous).
    func changedFields(since previous: TaskItem?) -> [String]? {
        guard let previous else { return nil }
        var fields: [String] = []
        func check<V: Equatable>(_ name: String, _ path: KeyPath<TaskItem, V>) {
            if self[keyPath: path] != previous[keyPath: path] { fields.append(name) }
        }
        check("projectId", \.projectId)
        check("parentId", \.parentId)
        check("title", \.title)
        check("description", \.description)
        check("status", \.status)
        check("priority", \.priority)
        check("tags", \.tags)
        check("dueAt", \.dueAt)
        check("timeZone", \.timeZone)
        check("position", \.position)
        check("assigneeId", \.assigneeId)
        check("estimateMinutes", \.estimateMinutes)
        check("remindAt", \.remindAt)
        check("recurrence", \.recurrence)
        return fields
    }

    /// Which event type a change from `previous` to `self` is.
    func eventType(after previous: TaskItem?) -> String {
        guard let previous else { return TaskChanged.created }
        if status == .done && previous.status != .done { return TaskChanged.completed }
        if previous.status == .done && status != .done { return TaskChanged.reopened }
        return TaskChanged.updated
    }
}

extension Array where Element == UUID {
    /// Ids as the API prints them in messages: lower-case, comma-separated.
    var listed: String { map { $0.uuidString.lowercased() }.joined(separator: ", ") }
}
