import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs

/// Job queue throughput and claim latency against the real PostgreSQL. Runs only under
/// `make bench-jobs` (BENCH=1, release build); prints figures, asserts none.
@Suite("jobs benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct JobsBenchmark {
    static let jobs = Int(ProcessInfo.processInfo.environment["BENCH_JOBS"] ?? "") ?? 30000
    static let tenants = 10
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    static func database() throws -> Database {
        try Database(url: TestEnvironment.databaseURL(role: jobsSchema), schema: jobsSchema, logger: TestEnvironment.logger, maxConnections: 24)
    }

    static func withBenchDatabase(_ body: @Sendable (Database) async throws -> Void) async throws {
        let database = try database()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            try await Migrator(database: database).migrate(JobTables.migrations(schema: jobsSchema))
            try await body(database)
            group.cancelAll()
        }
    }

    static func count(_ database: Database, queue: String, state: String) async throws -> Int {
        for try await count in try await database.client.query(
            "SELECT count(*)::int FROM \(unescaped: jobsSchema).jobs WHERE queue = \(queue) AND state = \(state)", logger: database.logger
        ).decode(Int.self) {
            return count
        }
        return 0
    }

    @Test("insert, then run no-op jobs with 1 and 2 workers, fairness on")
    func throughput() async throws {
        try await Self.withBenchDatabase { database in
            for workers in [1, 2] {
                let queue = uniqueQueue()
                let kind = JobKind<Note>("bench.noop", queue: queue)
                let tenants = (0..<Self.tenants).map { _ in UUID() }
                let insertStart = ContinuousClock.now
                for batch in stride(from: 0, to: Self.jobs, by: 1000) {
                    try await database.withTransaction { connection in
                        try await JobQueue(schema: jobsSchema).enqueueMany(
                            kind, (batch..<min(batch + 1000, Self.jobs)).map { (tenants[$0 % tenants.count], Note(text: "n")) }, on: connection)
                    }
                }
                let insertSeconds = Self.seconds(ContinuousClock.now - insertStart)
                var registry = JobRegistry()
                registry.register(kind) { _, _ in }
                let running = (0..<workers).map { _ in testWorker(database, registry, queues: [queue: 100]) }
                let runStart = ContinuousClock.now
                let tasks = running.map { worker in Task { try await worker.run() } }
                while try await Self.count(database, queue: queue, state: "succeeded") < Self.jobs {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let runSeconds = Self.seconds(ContinuousClock.now - runStart)
                for worker in running { worker.stop() }
                for task in tasks { _ = await task.result }
                let rate = Double(Self.jobs) / runSeconds
                print(String(format: "BENCH jobs insert (batches of 1000): %.0f jobs/s", Double(Self.jobs) / insertSeconds))
                print(
                    String(
                        format: "BENCH jobs run+complete, %d worker(s), %d tenants: %.0f jobs/s on %d cores = %.0f jobs/s per core (target 5000)",
                        workers, Self.tenants, rate, Self.cores, rate / Double(Self.cores)))
                try await database.client.query("DELETE FROM \(unescaped: jobsSchema).jobs WHERE queue = \(queue)", logger: database.logger)
            }
        }
    }

    @Test("claim latency: jobs enqueued one at a time to an idle worker")
    func claimLatency() async throws {
        try await Self.withBenchDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("bench.latency", queue: queue)
            let started = Seen<Double>()
            var registry = JobRegistry()
            registry.register(kind) { note, _ in
                guard let enqueued = Double(note.text) else { return }
                await started.add(Date().timeIntervalSince1970 - enqueued)
            }
            let worker = testWorker(database, registry, queues: [queue: 20])
            let count = 500
            try await whileRunning(worker) {
                try await Task.sleep(for: .milliseconds(300))
                for _ in 0..<count {
                    _ = try await enqueue(database, kind, Note(text: String(Date().timeIntervalSince1970)), tenant: UUID())
                    try await Task.sleep(for: .milliseconds(5))
                }
                _ = try await eventually { await started.count == count }
            }
            let latencies = await started.items.sorted()
            guard !latencies.isEmpty else { return }
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000 }
            print(
                String(
                    format: "BENCH jobs claim latency (commit to handler start, %d jobs): p50 %.1f ms, p99 %.1f ms (target p99 <= 50 ms)",
                    latencies.count, percentile(0.5), percentile(0.99)))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
