import Foundation

/// One change applied to many tasks by `POST /v1/tasks/bulk`.
enum BulkAction: Sendable, Equatable {
    case complete
    case reopen
    case delete
    case move(projectId: UUID?)
    case setPriority(Int)
    case addTag(String)
    case removeTag(String)

    var name: String {
        switch self {
        case .complete: "complete"
        case .reopen: "reopen"
        case .delete: "delete"
        case .move: "move"
        case .setPriority: "setPriority"
        case .addTag: "addTag"
        case .removeTag: "removeTag"
        }
    }

    static let names = ["complete", "reopen", "delete", "move", "setPriority", "addTag", "removeTag"]

    /// The task after the action, or nil when the action leaves it as it is.
    func apply(to task: TaskItem) -> TaskItem? {
        var next = task
        switch self {
        case .complete: next.status = .done
        case .reopen: if !task.status.isOpen { next.status = .todo }
        case .delete: return nil
        case .move(let project): next.projectId = project
        case .setPriority(let priority): next.priority = priority
        case .addTag(let tag): if !next.tags.contains(tag) { next.tags.append(tag) }
        case .removeTag(let tag): next.tags.removeAll { $0 == tag }
        }
        return next == task ? nil : next
    }
}

/// What a bulk request changed.
struct BulkOutcome: Codable, Sendable {
    var action: String
    var matched: Int
    /// Tasks the action changed (for `delete`, binned, subtasks included).
    var changed: [UUID]
    /// Tasks already as the action would leave them.
    var unchanged: [UUID]
}
