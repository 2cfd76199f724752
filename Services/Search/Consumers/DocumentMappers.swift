import Contracts
import Foundation
import Messaging

/// Turns one kind of source event into the search document it means. One mapper per
/// document type: indexing campaigns or photo sessions later is one more mapper.
protocol DocumentMapper: Sendable {
    var topic: Topic { get }
    /// The document, nil for an event type this mapper does not index.
    func document(from event: EventEnvelope) throws -> IndexedDocument?
}

/// `tasks.task.v1` → `task` documents (facets: status, projectId, priority).
struct TaskDocuments: DocumentMapper {
    var topic: Topic { Topics.tasksTask }

    func document(from event: EventEnvelope) throws -> IndexedDocument? {
        switch event.type {
        case TaskChanged.created, TaskChanged.updated, TaskChanged.completed, TaskChanged.reopened, TaskChanged.restored:
            let task = try event.decode(TaskChanged.self)
            guard task.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            var facets = ["status": task.status, "priority": String(task.priority)]
            if let project = task.projectId { facets["projectId"] = project.uuidString.lowercased() }
            return IndexedDocument(
                type: "task", id: task.taskId, title: task.title, body: task.description ?? "", tags: task.tags, facets: facets,
                version: task.version, deleted: false, updatedAt: task.occurredAt)
        case TaskDeleted.type:
            let deleted = try event.decode(TaskDeleted.self)
            guard deleted.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            return IndexedDocument(
                type: "task", id: deleted.taskId, title: "", body: "", tags: [], facets: [:], version: deleted.version, deleted: true,
                updatedAt: deleted.occurredAt)
        default:
            // A newer producer may add event types; ignoring them keeps this consumer compatible.
            return nil
        }
    }
}

/// `tasks.project.v1` → `project` documents (facet: archived).
struct ProjectDocuments: DocumentMapper {
    var topic: Topic { Topics.tasksProject }

    func document(from event: EventEnvelope) throws -> IndexedDocument? {
        switch event.type {
        case ProjectChanged.created, ProjectChanged.updated:
            let project = try event.decode(ProjectChanged.self)
            guard project.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            return IndexedDocument(
                type: "project", id: project.projectId, title: project.name, body: project.description ?? "", tags: [],
                facets: ["archived": String(project.archived)], version: project.version, deleted: false, updatedAt: project.occurredAt)
        case ProjectDeleted.type:
            let deleted = try event.decode(ProjectDeleted.self)
            guard deleted.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            return IndexedDocument(
                type: "project", id: deleted.projectId, title: "", body: "", tags: [], facets: [:], version: deleted.version, deleted: true,
                updatedAt: deleted.occurredAt)
        default:
            return nil
        }
    }
}
