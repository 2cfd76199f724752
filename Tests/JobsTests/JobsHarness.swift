import Foundation
import Persistence
import PostgresNIO
import TestSupport

@testable import Jobs

/// Job tests run in the photoml schema (no tables of its own yet). Each test uses its own
/// queue names and tenants, so tests running side by side never claim each other's jobs.
let jobsSchema = "photoml"

func withJobsDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
    try await withDatabase(jobsSchema) { database in
        try await Migrator(database: database).migrate(JobTables.migrations(schema: jobsSchema))
        return try await body(database)
    }
}

/// A worker tuned for tests: short polls and leases.
func testWorker(
    _ database: Database, _ registry: JobRegistry, queues: [String: Int], crons: [Cron] = [], lease: Duration = .seconds(5),
    grace: Duration = .seconds(5)
) -> JobWorker {
    var configuration = JobWorker.Configuration(queues: queues)
    configuration.pollInterval = .milliseconds(100)
    configuration.lease = lease
    configuration.shutdownGrace = grace
    return JobWorker(database: database, registry: registry, crons: crons, configuration: configuration, logger: TestEnvironment.logger)
}

/// Runs the worker while `body` runs, then stops it as SIGTERM would and waits for it.
func whileRunning<T: Sendable>(_ worker: JobWorker, _ body: () async throws -> T) async throws -> T {
    let running = Task { try await worker.run() }
    do {
        let result = try await body()
        worker.stop()
        _ = await running.result
        return result
    } catch {
        worker.stop()
        _ = await running.result
        throw error
    }
}

struct JobRow {
    var state: String
    var attempt: Int
    var errors: [[String: Any]]
    var runAt: Date
}

func jobRow(_ database: Database, _ id: Int64) async throws -> JobRow? {
    let rows = try await database.client.query(
        "SELECT state, attempt, errors::text, run_at FROM \(unescaped: jobsSchema).jobs WHERE id = \(id)", logger: database.logger)
    for try await (state, attempt, errors, runAt) in rows.decode((String, Int, String, Date).self) {
        let parsed = (try? JSONSerialization.jsonObject(with: Data(errors.utf8))) as? [[String: Any]] ?? []
        return JobRow(state: state, attempt: attempt, errors: parsed, runAt: runAt)
    }
    return nil
}

func enqueue<A>(_ database: Database, _ kind: JobKind<A>, _ arguments: A, tenant: UUID, options: JobQueue.Options = .init()) async throws -> Int64? {
    try await database.withTransaction { connection in
        try await JobQueue(schema: jobsSchema).enqueue(kind, arguments, tenant: tenant, options: options, on: connection)
    }
}

func uniqueQueue() -> String { "q-\(UUID().uuidString.prefix(8).lowercased())" }

/// Things handlers saw, in order.
actor Seen<Item: Sendable> {
    private(set) var items: [Item] = []
    func add(_ item: Item) { items.append(item) }
    var count: Int { items.count }
}

extension JobRow: @unchecked Sendable {}
