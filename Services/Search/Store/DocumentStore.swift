import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// A searchable entity's text as the index holds it.
struct IndexedDocument: Sendable, Equatable {
    var type: String
    var id: UUID
    var title: String
    var body: String
    var keywords: [String]
    var version: Int
    var deleted: Bool
}

struct SearchHit: Codable, Sendable, Equatable {
    var type: String
    var id: UUID
    var title: String
    var snippet: String
    var score: Double
}

/// SQL for the per-tenant document index.
struct DocumentStore: Sendable {
    let database: Database

    /// Writes the document unless the index already holds the same or a newer version.
    /// Returns whether it was applied.
    @discardableResult
    func upsert(_ document: IndexedDocument, tenant: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO search.documents (tenant_id, doc_type, doc_id, title, body, keywords, version, deleted)
            VALUES (\(tenant), \(document.type), \(document.id), \(document.title), \(document.body),
                    \(document.keywords.joined(separator: " ")), \(document.version), \(document.deleted))
            ON CONFLICT (tenant_id, doc_type, doc_id) DO UPDATE SET
              title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords,
              version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()
            WHERE documents.version < EXCLUDED.version
            RETURNING 1
            """, logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Ranked matches for a web-search style query (`websearch_to_tsquery`: quotes,
    /// `or`, `-word`), best first, with a highlighted snippet.
    func search(_ text: String, types: [String]?, tenant: UUID, offset: Int, limit: Int) async throws -> (hits: [SearchHit], facets: [String: Int]) {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT d.doc_type, d.doc_id, d.title,
                       ts_headline('english', CASE WHEN d.body = '' THEN d.title ELSE d.body END, q,
                                   'MaxWords=24, MinWords=8, MaxFragments=1, StartSel=<mark>, StopSel=</mark>'),
                       ts_rank_cd(d.search, q)::float8 AS score
                FROM search.documents d, websearch_to_tsquery('english', \(text)) q
                WHERE NOT d.deleted AND d.search @@ q
                  AND (\(types)::text[] IS NULL OR d.doc_type = ANY(\(types)))
                ORDER BY score DESC, d.doc_id
                OFFSET \(offset) LIMIT \(limit)
                """, logger: database.logger)
            var hits: [SearchHit] = []
            for try await (type, id, title, snippet, score) in rows.decode((String, UUID, String, String, Double).self) {
                hits.append(SearchHit(type: type, id: id, title: title, snippet: snippet, score: score))
            }
            let facetRows = try await connection.query(
                """
                SELECT d.doc_type, count(*)::int FROM search.documents d, websearch_to_tsquery('english', \(text)) q
                WHERE NOT d.deleted AND d.search @@ q GROUP BY d.doc_type
                """, logger: database.logger)
            var facets: [String: Int] = [:]
            for try await (type, count) in facetRows.decode((String, Int).self) { facets[type] = count }
            return (hits, facets)
        }
    }
}
