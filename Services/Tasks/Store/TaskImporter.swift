import Foundation
import Jobs
import Persistence
import PostgresNIO

enum ImportMode: String, Codable, Sendable {
    case allOrNothing = "all-or-nothing"
    case bestEffort = "best-effort"
}

/// An import as `POST /v1/tasks/import` and `GET /v1/tasks/imports/{id}` show it.
struct ImportResult: Codable, Sendable {
    var id: UUID
    var status: String
    var mode: ImportMode
    var total: Int
    var created: Int
    var errors: [RowError]
    var warnings: [RowError]
}

struct ImportJobArguments: Codable, Sendable {
    var importId: UUID
}

/// Creates the tasks of an import in one transaction, with the import's record: a retried
/// request (same Idempotency-Key) or a re-run job finds the record and creates nothing.
/// All-or-nothing rolls everything back on the first bad row (and reports every bad row);
/// best-effort skips bad rows and keeps the rest.
struct TaskImporter: Sendable {
    let store: TaskStore
    var database: Database { store.database }
    /// Larger imports run as a job; the request answers 202 with the import's resource.
    static let inlineLimit = 1000

    struct Refused: Error {
        var errors: [RowError]
    }

    func run(
        _ rows: [ImportRow], id: UUID, mode: ImportMode, key: String?, warnings: [RowError], tenant: UUID, actor: String,
        recordExists: Bool
    ) async throws -> ImportResult {
        do {
            return try await database.withTenant(tenant) { connection in
                let (created, errors) = try await insert(rows, mode: mode, tenant: tenant, actor: actor, on: connection)
                if mode == .allOrNothing, !errors.isEmpty { throw Refused(errors: errors) }
                let result = ImportResult(
                    id: id, status: "succeeded", mode: mode, total: rows.count, created: created, errors: errors, warnings: warnings)
                try await save(result, key: key, actor: actor, tenant: tenant, exists: recordExists, on: connection)
                return result
            }
        } catch let refused as Refused {
            let result = ImportResult(id: id, status: "failed", mode: mode, total: rows.count, created: 0, errors: refused.errors, warnings: warnings)
            if recordExists || key != nil {
                try await database.withTenant(tenant) { connection in
                    try await save(result, key: key, actor: actor, tenant: tenant, exists: recordExists, on: connection)
                }
            }
            return result
        }
    }

    /// Rows in file order; a row's parent must come before it.
    private func insert(
        _ rows: [ImportRow], mode: ImportMode, tenant: UUID, actor: String, on connection: PostgresConnection
    ) async throws -> (Int, [RowError]) {
        var idsByRef: [String: UUID] = [:]
        var lineByRef: [String: Int] = [:]
        for row in rows { if let ref = row.ref { lineByRef[ref] = row.line } }
        var created = 0
        var errors: [RowError] = []
        for row in rows {
            var parentID: UUID?
            if let parentRef = row.parentRef {
                if let id = idsByRef[parentRef] {
                    parentID = id
                } else if let line = lineByRef[parentRef] {
                    errors.append(RowError(line: row.line, field: "parentId", message: "its parent (line \(line)) was not imported before it"))
                    continue
                } else if let existing = UUID(uuidString: parentRef) {
                    parentID = existing
                } else {
                    errors.append(RowError(line: row.line, field: "parentId", message: "names no row of the file and no task"))
                    continue
                }
            }
            let now = Date()
            let draft = TaskItem(
                id: .v7(), projectId: row.projectId, parentId: parentID, title: row.title, description: row.description, status: row.status,
                priority: row.priority, tags: row.tags, dueAt: row.dueAt, timeZone: row.timeZone, position: 0, assigneeId: row.assigneeId,
                estimateMinutes: row.estimateMinutes, remindAt: row.remindAt, createdBy: UUID(uuidString: actor), version: 1, createdAt: now,
                updatedAt: now, completedAt: nil)
            do {
                let task = try await store.insert(draft, position: nil, tenant: tenant, actor: actor, on: connection)
                if let ref = row.ref { idsByRef[ref] = task.id }
                created += 1
            } catch let error as TaskStoreError {
                errors.append(RowError(line: row.line, field: Self.field(error), message: Self.message(error)))
                if mode == .allOrNothing, errors.count >= 1000 { break }
            }
        }
        return (created, errors)
    }

    static func field(_ error: TaskStoreError) -> String? {
        switch error {
        case .unknownReference(let field): field
        case .archivedProject: "projectId"
        case .notAMember: "assigneeId"
        case .tooDeep, .parentCycle: "parentId"
        default: nil
        }
    }

    static func message(_ error: TaskStoreError) -> String {
        switch error {
        case .unknownReference: "names nothing in this tenant"
        case .archivedProject: "names an archived project"
        case .notAMember: "is not a member of this tenant"
        case .tooDeep: "would nest tasks deeper than \(TaskRules.maxDepth) levels"
        default: "cannot be created (\(error))"
        }
    }

    private func save(_ result: ImportResult, key: String?, actor: String, tenant: UUID, exists: Bool, on connection: PostgresConnection) async throws
    {
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        if exists {
            try await connection.query(
                """
                UPDATE tasks.task_imports SET status = \(result.status), result = \(json)::jsonb, rows = NULL, finished_at = now()
                WHERE id = \(result.id)
                """, logger: database.logger)
        } else if let key {
            try await connection.query(
                """
                INSERT INTO tasks.task_imports (id, tenant_id, idempotency_key, actor, mode, status, total, result, finished_at)
                VALUES (\(result.id), \(tenant), \(key), \(actor), \(result.mode.rawValue), \(result.status), \(result.total), \(json)::jsonb, now())
                """, logger: database.logger)
        }
    }

    /// A large import: its rows are stored with a job that runs them.
    func schedule(_ rows: [ImportRow], mode: ImportMode, key: String?, warnings: [RowError], tenant: UUID, actor: String) async throws -> ImportResult
    {
        let id = UUID.v7()
        let payload = String(decoding: try JSONEncoder().encode(ImportPayload(rows: rows, warnings: warnings)), as: UTF8.self)
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO tasks.task_imports (id, tenant_id, idempotency_key, actor, mode, status, rows, total)
                VALUES (\(id), \(tenant), \(key), \(actor), \(mode.rawValue), 'running', \(payload)::jsonb, \(rows.count))
                """, logger: database.logger)
            try await JobQueue(schema: database.schema).enqueue(TaskJobs.importRows, ImportJobArguments(importId: id), tenant: tenant, on: connection)
        }
        return ImportResult(id: id, status: "running", mode: mode, total: rows.count, created: 0, errors: [], warnings: warnings)
    }

    struct ImportPayload: Codable {
        var rows: [ImportRow]
        var warnings: [RowError]
    }

    /// The job: runs a stored import unless it already finished.
    func runStored(_ id: UUID, tenant: UUID) async throws {
        let stored = try await database.withTenant(tenant) { connection -> (String, ImportMode, String, String?)? in
            for try await (status, mode, actor, rows) in try await connection.query(
                "SELECT status, mode, actor, rows::text FROM tasks.task_imports WHERE id = \(id)", logger: database.logger
            ).decode((String, String, String, String?).self) {
                return (status, ImportMode(rawValue: mode) ?? .allOrNothing, actor, rows)
            }
            return nil
        }
        guard let (status, mode, actor, rows) = stored, status == "running", let rows else { return }
        let payload = try JSONDecoder().decode(ImportPayload.self, from: Data(rows.utf8))
        _ = try await run(payload.rows, id: id, mode: mode, key: nil, warnings: payload.warnings, tenant: tenant, actor: actor, recordExists: true)
    }

    func find(key: String, tenant: UUID) async throws -> ImportResult? {
        try await database.withTenant(tenant) { connection in
            try await Self.result(
                try await connection.query(
                    "SELECT id, status, mode, total, result::text FROM tasks.task_imports WHERE idempotency_key = \(key)", logger: database.logger))
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> ImportResult? {
        try await database.withTenant(tenant) { connection in
            try await Self.result(
                try await connection.query(
                    "SELECT id, status, mode, total, result::text FROM tasks.task_imports WHERE id = \(id)", logger: database.logger))
        }
    }

    private static func result(_ rows: PostgresRowSequence) async throws -> ImportResult? {
        for try await (id, status, mode, total, result) in rows.decode((UUID, String, String, Int, String?).self) {
            if let result, let decoded = try? JSONDecoder().decode(ImportResult.self, from: Data(result.utf8)) { return decoded }
            return ImportResult(
                id: id, status: status, mode: ImportMode(rawValue: mode) ?? .allOrNothing, total: total, created: 0, errors: [], warnings: [])
        }
        return nil
    }
}
