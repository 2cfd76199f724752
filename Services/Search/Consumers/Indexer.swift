import Contracts
import Foundation
import Messaging
import Persistence
import ServiceKit

/// Applies source events to the index through their type's mapper: each event once
/// (inbox), and only if newer than what the index holds (version).
struct Indexer: Sendable {
    static let group = "search.indexer"
    let database: Database
    let documents: DocumentStore
    let inbox: Inbox
    let mappers: [String: any DocumentMapper]

    init(database: Database, mappers: [any DocumentMapper] = [TaskDocuments(), ProjectDocuments()]) {
        self.database = database
        self.documents = DocumentStore(database: database)
        self.inbox = Inbox(schema: database.schema, consumer: Self.group)
        self.mappers = Dictionary(uniqueKeysWithValues: mappers.map { ($0.topic.name, $0) })
    }

    var topics: [Topic] { mappers.values.map(\.topic).sorted { $0.name < $1.name } }

    func handle(_ event: EventEnvelope) async throws {
        guard let mapper = mappers[event.topic], let document = try mapper.document(from: event) else { return }
        try await database.withTenant(event.tenantID) { connection in
            guard try await inbox.claim(eventID: event.id, topic: event.topic, on: connection) else { return }
            try await documents.upsert(document, tenant: event.tenantID, on: connection)
        }
    }
}
