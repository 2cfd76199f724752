import Foundation
import Persistence
import PostgresNIO

/// "A depends on B": A cannot be completed while B is open. No cycles.
extension TaskStore {
    struct Dependencies: Codable, Sendable {
        /// Tasks this one waits for.
        var dependsOn: [UUID]
        /// Tasks waiting for this one.
        var blocking: [UUID]
    }

    /// Adds the dependency; answers false when it existed already.
    func addDependency(_ id: UUID, dependsOn other: UUID, tenant: UUID, actor: String) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(id, on: connection, lock: true) != nil else { throw TaskStoreError.notFound }
            guard try await fetch(other, on: connection, lock: false) != nil else { throw TaskStoreError.unknownReference(field: "dependsOn") }
            if id == other { throw TaskStoreError.dependencyCycle([id, id]) }
            // A path other → … → id closes a cycle id → other → … → id.
            for try await path in try await connection.query(
                """
                WITH RECURSIVE walk(node, path) AS (
                  SELECT depends_on, ARRAY[task_id, depends_on] FROM tasks.task_dependencies WHERE task_id = \(other)
                  UNION ALL
                  SELECT d.depends_on, w.path || d.depends_on FROM walk w JOIN tasks.task_dependencies d ON d.task_id = w.node
                  WHERE NOT d.depends_on = ANY(w.path)
                )
                SELECT path FROM walk WHERE node = \(id) LIMIT 1
                """, logger: database.logger
            ).decode([UUID].self) {
                throw TaskStoreError.dependencyCycle([id] + path)
            }
            var added = false
            for try await _ in try await connection.query(
                """
                INSERT INTO tasks.task_dependencies (tenant_id, task_id, depends_on) VALUES (\(tenant), \(id), \(other))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: database.logger)
            {
                added = true
            }
            if added {
                try await ActivityLog.record(
                    id, tenant: tenant, actor: actor, action: "dependency_added", changes: ["dependsOn": other.uuidString.lowercased()],
                    on: connection)
            }
            return added
        }
    }

    func removeDependency(_ id: UUID, dependsOn other: UUID, tenant: UUID, actor: String) async throws {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(id, on: connection, lock: true) != nil else { throw TaskStoreError.notFound }
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM tasks.task_dependencies WHERE task_id = \(id) AND depends_on = \(other) RETURNING 1", logger: database.logger)
            {
                removed = true
            }
            guard removed else { throw TaskStoreError.notFound }
            try await ActivityLog.record(
                id, tenant: tenant, actor: actor, action: "dependency_removed", changes: ["dependsOn": other.uuidString.lowercased()], on: connection)
        }
    }

    func dependencies(_ id: UUID, tenant: UUID) async throws -> Dependencies {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(id, on: connection, lock: false) != nil else { throw TaskStoreError.notFound }
            var result = Dependencies(dependsOn: [], blocking: [])
            for try await (task, other) in try await connection.query(
                """
                SELECT d.task_id, d.depends_on FROM tasks.task_dependencies d
                JOIN tasks.tasks a ON a.id = d.task_id AND a.deleted_at IS NULL
                JOIN tasks.tasks b ON b.id = d.depends_on AND b.deleted_at IS NULL
                WHERE d.task_id = \(id) OR d.depends_on = \(id) ORDER BY d.created_at
                """, logger: database.logger
            ).decode((UUID, UUID).self) {
                if task == id { result.dependsOn.append(other) } else { result.blocking.append(task) }
            }
            return result
        }
    }

    func activity(_ id: UUID, tenant: UUID, after: Int64?, limit: Int) async throws -> [ActivityLog.Entry] {
        try await database.withTenant(tenant) { connection in
            // Binned tasks keep their history readable.
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM tasks.tasks WHERE id = \(id)", logger: database.logger) { exists = true }
            guard exists else { throw TaskStoreError.notFound }
            return try await ActivityLog.list(id, after: after, limit: limit, on: connection)
        }
    }
}
