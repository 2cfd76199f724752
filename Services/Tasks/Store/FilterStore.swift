import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// A saved list query: a name and the parameters of `GET /v1/tasks`.
struct SavedFilter: Codable, Sendable {
    var id: UUID
    var name: String
    var parameters: [String: String]
    var createdAt: Date
    var updatedAt: Date
}

enum FilterStoreError: Error {
    case notFound
    case nameTaken
}

/// Saved filters belong to one user in one tenant; nobody else sees them.
struct FilterStore: Sendable {
    let database: Database
    static let maxPerUser = 100

    func list(tenant: UUID, owner: String) async throws -> [SavedFilter] {
        try await database.withTenant(tenant) { connection in
            try await Self.filters(
                try await connection.query(
                    "SELECT id, name, parameters::text, created_at, updated_at FROM tasks.task_filters WHERE owner = \(owner) ORDER BY name",
                    logger: database.logger))
        }
    }

    func get(_ id: UUID, tenant: UUID, owner: String) async throws -> SavedFilter {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT id, name, parameters::text, created_at, updated_at FROM tasks.task_filters WHERE id = \(id) AND owner = \(owner)",
                logger: database.logger)
            guard let filter = try await Self.filters(rows).first else { throw FilterStoreError.notFound }
            return filter
        }
    }

    /// Creates, or with `id` replaces, a filter.
    func save(id: UUID?, name: String, parameters: [String: String], tenant: UUID, owner: String) async throws -> (SavedFilter, created: Bool) {
        let json = String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self)
        do {
            return try await database.withTenant(tenant) { connection in
                if let id {
                    let rows = try await connection.query(
                        """
                        UPDATE tasks.task_filters SET name = \(name), parameters = \(json)::jsonb, updated_at = now()
                        WHERE id = \(id) AND owner = \(owner)
                        RETURNING id, name, parameters::text, created_at, updated_at
                        """, logger: database.logger)
                    guard let filter = try await Self.filters(rows).first else { throw FilterStoreError.notFound }
                    return (filter, false)
                }
                let rows = try await connection.query(
                    """
                    INSERT INTO tasks.task_filters (id, tenant_id, owner, name, parameters)
                    SELECT \(UUID.v7()), \(tenant), \(owner), \(name), \(json)::jsonb
                    WHERE (SELECT count(*) FROM tasks.task_filters WHERE owner = \(owner)) < \(Self.maxPerUser)
                    RETURNING id, name, parameters::text, created_at, updated_at
                    """, logger: database.logger)
                guard let filter = try await Self.filters(rows).first else { throw FilterStoreError.nameTaken }
                return (filter, true)
            }
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw FilterStoreError.nameTaken
        }
    }

    func delete(_ id: UUID, tenant: UUID, owner: String) async throws {
        try await database.withTenant(tenant) { connection in
            var deleted = false
            for try await _ in try await connection.query(
                "DELETE FROM tasks.task_filters WHERE id = \(id) AND owner = \(owner) RETURNING 1", logger: database.logger)
            {
                deleted = true
            }
            if !deleted { throw FilterStoreError.notFound }
        }
    }

    static func filters(_ rows: PostgresRowSequence) async throws -> [SavedFilter] {
        var filters: [SavedFilter] = []
        for try await (id, name, parameters, created, updated) in rows.decode((UUID, String, String, Date, Date).self) {
            let decoded = (try? JSONDecoder().decode([String: String].self, from: Data(parameters.utf8))) ?? [:]
            filters.append(SavedFilter(id: id, name: name, parameters: decoded, createdAt: created, updatedAt: updated))
        }
        return filters
    }
}
