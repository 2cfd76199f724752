import Contracts
import Foundation
import Messaging
import Persistence
import ServiceKit

/// Applies `tasks.task.v1` to the index: each event once (inbox), only if newer (version).
struct TaskIndexer: Sendable {
    let database: Database
    let documents: DocumentStore
    let inbox: Inbox

    init(database: Database) {
        self.database = database
        self.documents = DocumentStore(database: database)
        self.inbox = Inbox(schema: database.schema, consumer: "search.task-indexer")
    }

    func handle(_ event: EventEnvelope) async throws {
        let document: IndexedDocument
        switch event.type {
        case TaskChanged.created, TaskChanged.updated, TaskChanged.completed, TaskChanged.reopened, TaskChanged.restored:
            let task = try event.decode(TaskChanged.self)
            guard task.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            document = IndexedDocument(
                type: "task", id: task.taskId, title: task.title, body: task.description ?? "", keywords: task.tags,
                version: task.version, deleted: false)
        case TaskDeleted.type:
            let deleted = try event.decode(TaskDeleted.self)
            guard deleted.tenantId == event.tenantID else { throw PermanentFailure("payload tenant differs from ce_tenantid") }
            document = IndexedDocument(type: "task", id: deleted.taskId, title: "", body: "", keywords: [], version: deleted.version, deleted: true)
        default:
            // A newer producer may add event types; ignoring them keeps this consumer compatible.
            return
        }
        try await database.withTenant(event.tenantID) { connection in
            guard try await inbox.claim(eventID: event.id, topic: event.topic, on: connection) else { return }
            try await documents.upsert(document, tenant: event.tenantID, on: connection)
        }
    }
}
