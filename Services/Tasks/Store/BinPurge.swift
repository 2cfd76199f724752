import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Tasks binned more than 30 days ago are deleted for good, subtasks with them, tenant by
/// tenant (the bin's index says which tenants have some).
struct BinPurge: Sendable {
    let database: Database

    func purge(context: JobContext) async throws {
        let cutoff = Date().addingTimeInterval(-Double(TaskStore.binDays) * 86400)
        var tenants: [UUID] = []
        for try await tenant in try await database.query(
            "SELECT DISTINCT tenant_id FROM tasks.binned_tasks WHERE deleted_at < \(cutoff)", logger: context.logger
        ).decode(UUID.self) {
            tenants.append(tenant)
        }
        var purged = 0
        for tenant in tenants {
            purged += try await database.withTenant(tenant) { connection in
                var count = 0
                for try await _ in try await connection.query(
                    "DELETE FROM tasks.tasks WHERE deleted_at < \(cutoff) RETURNING id", logger: context.logger)
                {
                    count += 1
                }
                try await connection.query(
                    "DELETE FROM tasks.binned_tasks WHERE tenant_id = \(tenant) AND deleted_at < \(cutoff)", logger: context.logger)
                return count
            }
        }
        context.logger.info("purged binned tasks", metadata: ["count": "\(purged)", "tenants": "\(tenants.count)"])
    }
}
