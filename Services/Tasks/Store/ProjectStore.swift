import Contracts
import Foundation
import Persistence
import PostgresNIO

enum ProjectStoreError: Error, Equatable {
    case notFound
    case versionMismatch(current: Int)
    case hasTasks(Int)
}

/// SQL for projects; every change writes its `tasks.project.v1` event in the same transaction.
struct ProjectStore: Sendable {
    let database: Database

    static let columns = "id, name, description, archived_at, default_sort, version, created_at, updated_at"

    static func projects(_ rows: PostgresRowSequence) async throws -> [Project] {
        var projects: [Project] = []
        for try await (id, name, description, archivedAt, sort, version, created, updated) in rows.decode(
            (UUID, String, String?, Date?, String, Int, Date, Date).self)
        {
            projects.append(
                Project(
                    id: id, name: name, description: description, archived: archivedAt != nil, archivedAt: archivedAt,
                    defaultSort: TaskSort(rawValue: sort) ?? .position, version: version, createdAt: created, updatedAt: updated))
        }
        return projects
    }

    func create(name: String, description: String?, defaultSort: TaskSort, tenant: UUID) async throws -> Project {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO tasks.projects (id, tenant_id, name, description, default_sort)
                VALUES (\(UUID.v7()), \(tenant), \(name), \(description), \(defaultSort.rawValue))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let project = try await Self.projects(rows).first else { throw ProjectStoreError.notFound }
            try await publish(project, type: ProjectChanged.created, tenant: tenant, on: connection)
            return project
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Project {
        try await database.withTenant(tenant) { connection in
            guard let project = try await fetch(id, lock: false, on: connection) else { throw ProjectStoreError.notFound }
            return project
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Project? {
        try await Self.projects(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM tasks.projects WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    /// Newest first; archived ones only when asked.
    func list(tenant: UUID, archived: Bool, before cursor: UUID?, limit: Int) async throws -> [Project] {
        try await database.withTenant(tenant) { connection in
            try await Self.projects(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM tasks.projects
                    WHERE (archived_at IS NOT NULL) = \(archived) AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// Applies `change` under a row lock; `archive` nil leaves the archive state alone.
    func update(
        _ id: UUID, tenant: UUID, expectedVersion: Int?, archive: Bool? = nil, change: @Sendable (Project) -> Project = { $0 }
    ) async throws -> Project {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw ProjectStoreError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw ProjectStoreError.versionMismatch(current: current.version) }
            let next = change(current)
            let archived = archive ?? current.archived
            if next == current && archived == current.archived { return current }
            let rows = try await connection.query(
                """
                UPDATE tasks.projects SET name = \(next.name), description = \(next.description), default_sort = \(next.defaultSort.rawValue),
                  archived_at = CASE WHEN \(archived) THEN COALESCE(archived_at, now()) END, version = version + 1, updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let updated = try await Self.projects(rows).first else { throw ProjectStoreError.notFound }
            try await publish(updated, type: ProjectChanged.updated, tenant: tenant, on: connection)
            return updated
        }
    }

    /// Only a project without live tasks can be deleted (archive the others); binned
    /// tasks of it leave the project.
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw ProjectStoreError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw ProjectStoreError.versionMismatch(current: current.version) }
            for try await count in try await connection.query(
                "SELECT count(*)::int FROM tasks.tasks WHERE project_id = \(id) AND deleted_at IS NULL", logger: database.logger
            ).decode(Int.self) where count > 0 {
                throw ProjectStoreError.hasTasks(count)
            }
            try await connection.query("UPDATE tasks.tasks SET project_id = NULL WHERE project_id = \(id)", logger: database.logger)
            try await connection.query("DELETE FROM tasks.projects WHERE id = \(id)", logger: database.logger)
            try await database.outbox.append(
                try .make(
                    ProjectDeleted(projectId: id, tenantId: tenant, version: current.version + 1, occurredAt: Date()), type: ProjectDeleted.type,
                    on: Topics.tasksProject, source: TaskStore.source, tenantID: tenant),
                on: connection)
        }
    }

    func publish(_ project: Project, type: String, tenant: UUID, on connection: PostgresConnection) async throws {
        try await database.outbox.append(
            try .make(project.changedEvent(tenantID: tenant), type: type, on: Topics.tasksProject, source: TaskStore.source, tenantID: tenant),
            on: connection)
    }
}
