import Foundation
import PostgresNIO

/// `POST /v1/tasks/bulk`: one action on up to 1,000 tasks, all or nothing.
extension TaskStore {
    static let maxBulk = 1000

    /// The ids a list query matches, at most `maxBulk + 1` (one more says "too many").
    func matchingIDs(tenant: UUID, query: TaskQuery) async throws -> [UUID] {
        var query = query
        query.sort = .oldest
        return try await list(tenant: tenant, query: query, after: nil, limit: Self.maxBulk + 1).map(\.0.id)
    }

    /// Applies `action` to every task in one transaction. A task the action cannot change
    /// (completion refused, a tag limit) fails the whole request with every reason.
    func bulk(_ ids: [UUID], action: BulkAction, tenant: UUID, actor: String) async throws -> BulkOutcome {
        try await mapReferenceErrors {
            try await database.withTenant(tenant) { connection in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM tasks.tasks WHERE id = ANY(\(ids)) AND deleted_at IS NULL ORDER BY id FOR UPDATE
                    """, logger: database.logger)
                let found = try await Self.tasks(rows)
                let missing = Set(ids).subtracting(found.map(\.id))
                if !missing.isEmpty {
                    throw TaskStoreError.bulkRefused(
                        missing.sorted { $0.uuidString < $1.uuidString }.map { BulkFailure(id: $0, reason: "no such task") })
                }
                var outcome = BulkOutcome(action: action.name, matched: found.count, changed: [], unchanged: [])
                if case .delete = action {
                    var binned = Set<UUID>()
                    for task in found where !binned.contains(task.id) {
                        binned.formUnion(try await bin(task.id, tenant: tenant, actor: actor, on: connection))
                    }
                    outcome.changed = binned.sorted { $0.uuidString < $1.uuidString }
                    return outcome
                }
                if case .addTag = action {
                    let full = found.filter { action.apply(to: $0) != nil && $0.tags.count >= TaskRules.maxTags }
                    if !full.isEmpty {
                        throw TaskStoreError.bulkRefused(full.map { BulkFailure(id: $0.id, reason: "already has \(TaskRules.maxTags) tags") })
                    }
                }
                outcome.unchanged = found.filter { action.apply(to: $0) == nil }.map(\.id)
                // Subtasks in the request complete before their parents: a parent refused for
                // open subtasks is tried again after a pass that changed something.
                var pending = found.filter { action.apply(to: $0) != nil }.map(\.id)
                while !pending.isEmpty {
                    var retry: [UUID] = []
                    var failures: [BulkFailure] = []
                    for id in pending {
                        guard let fresh = try await fetch(id, on: connection, lock: true), let target = action.apply(to: fresh) else { continue }
                        do {
                            _ = try await write(target, over: fresh, tenant: tenant, actor: actor, on: connection)
                            outcome.changed.append(id)
                        } catch TaskStoreError.openSubtasks {
                            retry.append(id)
                        } catch TaskStoreError.openBlockers(let blockers) {
                            failures.append(BulkFailure(id: id, reason: "waits for \(blockers.listed)"))
                        } catch TaskStoreError.archivedProject {
                            failures.append(BulkFailure(id: id, reason: "the project is archived"))
                        } catch TaskStoreError.unknownReference {
                            failures.append(BulkFailure(id: id, reason: "the project does not exist"))
                        }
                    }
                    let progressed = retry.count < pending.count && failures.isEmpty
                    if !failures.isEmpty || (!retry.isEmpty && !progressed) {
                        throw TaskStoreError.bulkRefused(failures + retry.map { BulkFailure(id: $0, reason: "has open subtasks") })
                    }
                    pending = retry
                }
                return outcome
            }
        }
    }
}

struct BulkFailure: Codable, Sendable, Equatable {
    var id: UUID
    var reason: String
}
