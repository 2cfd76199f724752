import Foundation

/// `tasks.task.v1` created / updated / completed / reopened: the task's full state
/// after the change. `version` increases with every change, so a consumer applies an
/// event only when it is newer than what it holds (redelivery and reordering are safe).
public struct TaskChanged: EventPayload {
    public static let created = "tasks.task.created"
    public static let updated = "tasks.task.updated"
    public static let completed = "tasks.task.completed"
    public static let reopened = "tasks.task.reopened"
    /// Brought back from the bin within its 30 days.
    public static let restored = "tasks.task.restored"

    public var taskId: UUID
    public var tenantId: UUID
    public var projectId: UUID?
    public var parentId: UUID?
    public var title: String
    public var description: String?
    public var status: String
    /// 0 none, 1 low, 2 medium, 3 high, 4 urgent.
    public var priority: Int
    public var tags: [String]
    public var dueAt: Date?
    public var assigneeId: UUID?
    public var version: Int
    public var occurredAt: Date
    /// On `updated`: the API names of the fields this change touched.
    public var changedFields: [String]?
    /// Who created the task (absent in events from before this field).
    public var createdBy: UUID?
    /// `tenant` (every member; also when absent) or `private` (its creator and assignee only).
    public var visibility: String?

    public static let privateVisibility = "private"

    public init(
        taskId: UUID, tenantId: UUID, projectId: UUID?, parentId: UUID?, title: String, description: String?,
        status: String, priority: Int, tags: [String], dueAt: Date?, assigneeId: UUID?, version: Int, occurredAt: Date,
        changedFields: [String]? = nil, createdBy: UUID? = nil, visibility: String? = nil
    ) {
        self.createdBy = createdBy
        self.visibility = visibility
        self.taskId = taskId
        self.tenantId = tenantId
        self.projectId = projectId
        self.parentId = parentId
        self.title = title
        self.description = description
        self.status = status
        self.priority = priority
        self.tags = tags
        self.dueAt = dueAt
        self.assigneeId = assigneeId
        self.version = version
        self.occurredAt = occurredAt
        self.changedFields = changedFields
    }

    public var key: String { taskId.uuidString.lowercased() }
    public var subject: String { "tasks/\(key)" }
}

/// `tasks.task.v1`, type `tasks.task.deleted`.
public struct TaskDeleted: EventPayload {
    public static let type = "tasks.task.deleted"

    public var taskId: UUID
    public var tenantId: UUID
    public var version: Int
    public var occurredAt: Date

    public init(taskId: UUID, tenantId: UUID, version: Int, occurredAt: Date) {
        self.taskId = taskId
        self.tenantId = tenantId
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { taskId.uuidString.lowercased() }
    public var subject: String { "tasks/\(key)" }
}

/// `tasks.project.v1` created / updated: the project's full state after the change.
public struct ProjectChanged: EventPayload {
    public static let created = "tasks.project.created"
    public static let updated = "tasks.project.updated"

    public var projectId: UUID
    public var tenantId: UUID
    public var name: String
    public var description: String?
    /// Archived projects are kept, read-only for new tasks, hidden from default lists.
    public var archived: Bool
    public var version: Int
    public var occurredAt: Date

    public init(projectId: UUID, tenantId: UUID, name: String, description: String?, archived: Bool = false, version: Int, occurredAt: Date) {
        self.projectId = projectId
        self.tenantId = tenantId
        self.name = name
        self.description = description
        self.archived = archived
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { projectId.uuidString.lowercased() }
    public var subject: String { "projects/\(key)" }
}

/// `tasks.project.v1`, type `tasks.project.deleted`.
public struct ProjectDeleted: EventPayload {
    public static let type = "tasks.project.deleted"

    public var projectId: UUID
    public var tenantId: UUID
    public var version: Int
    public var occurredAt: Date

    public init(projectId: UUID, tenantId: UUID, version: Int, occurredAt: Date) {
        self.projectId = projectId
        self.tenantId = tenantId
        self.version = version
        self.occurredAt = occurredAt
    }

    public var key: String { projectId.uuidString.lowercased() }
    public var subject: String { "projects/\(key)" }
}
