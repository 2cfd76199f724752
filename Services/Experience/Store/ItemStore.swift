import Contracts
import Foundation
import Logging
import Persistence
import PostgresNIO
import ServiceKit

/// The catalogue's SQL.
struct ItemStore: Sendable {
    let database: Database

    static let columns = """
        key, type, title, categories, topics, provider, author, published_at, attributes::text, status, version, created_at, updated_at
        """

    /// The decoded `columns`, in order.
    typealias Columns = (String, String, String, [String], [String], String?, String?, Date?, String, String, Int, Date, Date)

    static func items(_ rows: PostgresRowSequence) async throws -> [Item] {
        var items: [Item] = []
        for try await columns in rows.decode(Columns.self) { items.append(item(columns)) }
        return items
    }

    static func item(_ c: Columns) -> Item {
        Item(
            key: c.0, type: c.1, title: c.2, categories: c.3, topics: c.4, provider: c.5, author: c.6, publishedAt: c.7,
            attributes: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(c.8.utf8))) ?? [:],
            status: Item.Status(rawValue: c.9) ?? .hidden, version: c.10, createdAt: c.11, updatedAt: c.12)
    }

    static func json(_ attributes: [String: JSONValue]) -> String {
        String(decoding: (try? JSONEncoder().encode(attributes)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Creates or replaces the item under its key; `expectedVersion` (If-Match) must be the
    /// stored one. Returns the item and whether it is new.
    func put(_ draft: ItemDraft, expectedVersion: Int?, tenant: UUID) async throws -> (Item, created: Bool) {
        try await database.withTenant(tenant) { connection in
            let current = try await connection.query(
                "SELECT version FROM experience.items WHERE tenant_id = \(tenant) AND key = \(draft.key) FOR UPDATE", logger: database.logger
            ).collect().first.map { try $0.decode(Int.self) }
            if let expectedVersion, expectedVersion != current { throw ExperienceError.versionMismatch(current: current) }
            let rows = try await connection.query(
                """
                INSERT INTO experience.items AS i (tenant_id, key, type, title, categories, topics, provider, author, published_at, attributes, status)
                VALUES (\(tenant), \(draft.key), \(draft.type), \(draft.title), \(draft.categories), \(draft.topics), \(draft.provider),
                        \(draft.author), \(draft.publishedAt), \(Self.json(draft.attributes))::jsonb, \(draft.status.rawValue))
                ON CONFLICT (tenant_id, key) DO UPDATE SET
                  type = EXCLUDED.type, title = EXCLUDED.title, categories = EXCLUDED.categories, topics = EXCLUDED.topics,
                  provider = EXCLUDED.provider, author = EXCLUDED.author, published_at = EXCLUDED.published_at,
                  attributes = EXCLUDED.attributes, status = EXCLUDED.status, version = i.version + 1, updated_at = now()
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let item = try await Self.items(rows).first else { throw ExperienceError.notFound }
            return (item, current == nil)
        }
    }

    /// Creates or replaces up to `ItemRules.maxBulk` items in one statement; how many were new.
    func putAll(_ drafts: [ItemDraft], tenant: UUID) async throws -> (created: Int, updated: Int) {
        let batch = String(decoding: try PlatformJSON.encoder.encode(drafts.map(BulkRow.init)), as: UTF8.self)
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO experience.items AS i (tenant_id, key, type, title, categories, topics, provider, author, published_at, attributes, status)
                SELECT \(tenant), key, type, title, categories, topics, provider, author, published_at, attributes, status
                FROM jsonb_to_recordset(\(batch)::jsonb) AS x(
                  key text, type text, title text, categories text[], topics text[], provider text, author text,
                  published_at timestamptz, attributes jsonb, status text)
                ON CONFLICT (tenant_id, key) DO UPDATE SET
                  type = EXCLUDED.type, title = EXCLUDED.title, categories = EXCLUDED.categories, topics = EXCLUDED.topics,
                  provider = EXCLUDED.provider, author = EXCLUDED.author, published_at = EXCLUDED.published_at,
                  attributes = EXCLUDED.attributes, status = EXCLUDED.status, version = i.version + 1, updated_at = now()
                RETURNING (xmax = 0)
                """, logger: database.logger)
            var created = 0
            var total = 0
            for try await new in rows.decode(Bool.self) {
                total += 1
                if new { created += 1 }
            }
            return (created, total - created)
        }
    }

    /// Which of `keys` the catalogue holds.
    func existingKeys(_ keys: [String], tenant: UUID) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return try await database.withTenant(tenant) { connection in
            try await connection.query(
                "SELECT key FROM experience.items WHERE tenant_id = \(tenant) AND key = ANY(\(keys))", logger: database.logger
            ).collect().reduce(into: Set<String>()) { $0.insert(try $1.decode(String.self)) }
        }
    }

    /// Inserts the items whose keys are new and leaves the others as they are (a feed lists
    /// the same articles fetch after fetch); the keys that were new.
    func addNew(_ drafts: [ItemDraft], tenant: UUID) async throws -> Set<String> {
        guard !drafts.isEmpty else { return [] }
        return try await database.withTenant(tenant) { connection in
            try await Self.addNew(drafts, tenant: tenant, on: connection, logger: database.logger)
        }
    }

    /// `addNew` within the caller's transaction.
    static func addNew(_ drafts: [ItemDraft], tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        guard !drafts.isEmpty else { return [] }
        let batch = String(decoding: try PlatformJSON.encoder.encode(drafts.map(BulkRow.init)), as: UTF8.self)
        return try await connection.query(
            """
            INSERT INTO experience.items (tenant_id, key, type, title, categories, topics, provider, author, published_at, attributes, status)
            SELECT \(tenant), key, type, title, categories, topics, provider, author, published_at, attributes, status
            FROM jsonb_to_recordset(\(batch)::jsonb) AS x(
              key text, type text, title text, categories text[], topics text[], provider text, author text,
              published_at timestamptz, attributes jsonb, status text)
            ON CONFLICT (tenant_id, key) DO NOTHING
            RETURNING key
            """, logger: logger
        ).collect().reduce(into: Set<String>()) { $0.insert(try $1.decode(String.self)) }
    }

    /// One bulk entry as `jsonb_to_recordset` reads it.
    private struct BulkRow: Encodable {
        var key, type, title: String
        var categories, topics: [String]
        var provider, author: String?
        var published_at: Date?
        var attributes: [String: JSONValue]
        var status: String

        init(_ draft: ItemDraft) {
            key = draft.key
            type = draft.type
            title = draft.title
            categories = draft.categories
            topics = draft.topics
            provider = draft.provider
            author = draft.author
            published_at = draft.publishedAt
            attributes = draft.attributes
            status = draft.status.rawValue
        }
    }

    func get(_ key: String, tenant: UUID) async throws -> Item {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM experience.items WHERE tenant_id = \(tenant) AND key = \(key)", logger: database.logger)
            guard let item = try await Self.items(rows).first else { throw ExperienceError.notFound }
            return item
        }
    }

    /// Newest published first, then by key; `after` is the last page's final position.
    func list(tenant: UUID, status: Item.Status?, category: String?, limit: Int, after: ItemPosition?) async throws -> [Item] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM experience.items
                WHERE tenant_id = \(tenant)
                  AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                  AND (\(category)::text IS NULL OR categories @> ARRAY[\(category)]::text[])
                  AND (\(after == nil) OR (COALESCE(published_at, '-infinity'), key) < (COALESCE(\(after?.publishedAt), '-infinity'::timestamptz), \(after?.key ?? "")))
                ORDER BY COALESCE(published_at, '-infinity') DESC, key DESC
                LIMIT \(limit)
                """, logger: database.logger)
            return try await Self.items(rows)
        }
    }

    func delete(_ key: String, expectedVersion: Int?, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            let current = try await connection.query(
                "DELETE FROM experience.items WHERE tenant_id = \(tenant) AND key = \(key) RETURNING version", logger: database.logger
            ).collect().first.map { try $0.decode(Int.self) }
            guard let current else { throw ExperienceError.notFound }
            // Rolls the delete back.
            if let expectedVersion, expectedVersion != current { throw ExperienceError.versionMismatch(current: current) }
        }
    }
}

/// Where a page of items ended.
struct ItemPosition: Codable, Sendable {
    var publishedAt: Date?
    var key: String
}
