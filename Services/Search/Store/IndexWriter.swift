import Contracts
import Foundation
import Persistence
import PostgresNIO

/// A searchable entity as the index holds it, whatever its source. Stored in retry jobs
/// with the column names `search.apply_documents` reads, which `BatchJSON` writes too.
struct IndexedDocument: Sendable, Equatable, Codable {
    var tenant: UUID
    var type: String
    var id: UUID
    var title: String
    var body: String
    var tags: [String]
    /// Per-type attributes to filter and count by (for tasks: status, projectId, priority).
    var facets: [String: String]
    /// nil: every member of the tenant may see it; else only these users.
    var visibleTo: [UUID]?
    var version: Int
    var deleted: Bool
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case tenant = "tenant_id"
        case type = "doc_type"
        case id = "doc_id"
        case title, body, tags, facets
        case visibleTo = "visible_to"
        case version, deleted
        case updatedAt = "updated_at"
    }

    /// Which row of the index the document is.
    var key: Key { Key(tenant: tenant, type: type, id: id) }

    struct Key: Hashable {
        var tenant: UUID
        var type: String
        var id: UUID
    }
}

/// Writes documents into the index: a whole batch with one statement.
struct IndexWriter: Sendable {
    let database: Database

    /// Writes the documents (at most one per key) into every open generation of their
    /// tenants, or, for a reindex, only into its building generation; a document applies
    /// only over an older version. Returns how many rows changed.
    @discardableResult
    func apply(_ documents: [IndexedDocument], reindex: UUID? = nil) async throws -> Int {
        guard !documents.isEmpty else { return 0 }
        let rows = try await database.query(
            "SELECT search.apply_documents(\(BatchJSON.encode(documents))::jsonb, \(reindex))", logger: database.logger)
        for try await changed in rows.decode(Int.self) { return changed }
        return 0
    }

    /// Keeps, per key, the document with the highest version (the later one on a tie):
    /// a burst of updates to one entity becomes one write.
    static func coalesce(_ documents: [IndexedDocument]) -> [IndexedDocument] {
        var latest: [IndexedDocument.Key: Int] = [:]
        var kept: [IndexedDocument] = []
        for document in documents {
            if let index = latest[document.key] {
                if document.version >= kept[index].version { kept[index] = document }
            } else {
                latest[document.key] = kept.count
                kept.append(document)
            }
        }
        return kept
    }
}
