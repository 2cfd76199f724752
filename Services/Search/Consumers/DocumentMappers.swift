import Contracts
import Foundation
import Messaging

/// Turns one kind of source event into the search document it means. One mapper per
/// document type: indexing campaigns or photo sessions later is one more mapper.
protocol DocumentMapper: Sendable {
    var topic: Topic { get }
    /// The document, nil for an event type this mapper does not index. Throws for an
    /// event that cannot mean any document (a poison event).
    func document(from event: EventEnvelope) throws -> IndexedDocument?
}

extension DocumentMapper {
    func tombstone(_ type: String, id: UUID, of event: EventEnvelope, version: Int, at time: Date) -> IndexedDocument {
        IndexedDocument(
            tenant: event.tenantID, type: type, id: id, title: "", body: "", tags: [], facets: [:], visibleTo: nil, version: version,
            deleted: true, updatedAt: time)
    }
}

/// `tasks.task.v1` → `task` documents (facets: status, projectId, priority). A private
/// task is visible to its creator and assignee only.
struct TaskDocuments: DocumentMapper {
    var topic: Topic { Topics.tasksTask }

    func document(from event: EventEnvelope) throws -> IndexedDocument? {
        switch event.type {
        case TaskChanged.created, TaskChanged.updated, TaskChanged.completed, TaskChanged.reopened, TaskChanged.restored:
            let task = try event.decode(TaskChanged.self)
            var facets = ["status": task.status, "priority": String(task.priority)]
            if let project = task.projectId { facets["projectId"] = project.uuidString.lowercased() }
            let visibleTo = task.visibility == TaskChanged.privateVisibility ? [task.createdBy, task.assigneeId].compactMap { $0 } : nil
            return IndexedDocument(
                tenant: event.tenantID, type: "task", id: task.taskId, title: task.title, body: task.description ?? "", tags: task.tags,
                facets: facets, visibleTo: visibleTo, version: task.version, deleted: false, updatedAt: task.occurredAt)
        case TaskDeleted.type:
            let deleted = try event.decode(TaskDeleted.self)
            return tombstone("task", id: deleted.taskId, of: event, version: deleted.version, at: deleted.occurredAt)
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
            return IndexedDocument(
                tenant: event.tenantID, type: "project", id: project.projectId, title: project.name, body: project.description ?? "",
                tags: [], facets: ["archived": String(project.archived)], visibleTo: nil, version: project.version, deleted: false,
                updatedAt: project.occurredAt)
        case ProjectDeleted.type:
            let deleted = try event.decode(ProjectDeleted.self)
            return tombstone("project", id: deleted.projectId, of: event, version: deleted.version, at: deleted.occurredAt)
        default:
            return nil
        }
    }
}

/// `photoml.session.v1` → `photo_session` documents, found by location and product name
/// (facets: status, locationId, productId). Only ended sessions are announced, so every
/// event is the newest state of its session at that version.
struct PhotoSessionDocuments: DocumentMapper {
    var topic: Topic { Topics.photomlSession }

    func document(from event: EventEnvelope) throws -> IndexedDocument? {
        guard topic.eventTypes.contains(event.type) else { return nil }
        let session = try event.decode(PhotoSessionFinished.self)
        var facets = ["status": session.state, "locationId": session.locationId.uuidString.lowercased()]
        if let product = session.productId { facets["productId"] = product.uuidString.lowercased() }
        let title = [session.locationName, session.productName].compactMap { $0 }.joined(separator: " · ")
        var body = session.counts.map { "\($0.count) \($0.name)" }.joined(separator: ", ")
        if let estimate = session.estimate { body += (body.isEmpty ? "" : "; ") + "estimated \(estimate.count)" }
        if let error = session.error { body += (body.isEmpty ? "" : "; ") + error }
        return IndexedDocument(
            tenant: event.tenantID, type: "photo_session", id: session.sessionId, title: title, body: body, tags: session.warnings,
            facets: facets, visibleTo: nil, version: session.version, deleted: false, updatedAt: session.occurredAt)
    }
}
