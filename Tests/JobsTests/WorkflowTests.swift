import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs

struct Part: Codable, Sendable {
    var index: Int
    var fails = false
}

struct Report: Codable, Sendable, Equatable {
    var session: String
}

/// How many callback jobs exist for `batch` (the callback must be enqueued exactly once).
func callbacks(_ database: Database, batch: UUID) async throws -> Int {
    try await database.client.query(
        "SELECT count(*)::int FROM \(unescaped: jobsSchema).jobs WHERE args->>'batchId' = \(batch.uuidString.lowercased())", logger: database.logger
    ).decode(Int.self).first { _ in true } ?? -1
}

func enqueueBatch(
    _ database: Database, _ kind: JobKind<Part>, _ parts: [Part], tenant: UUID, then callback: JobKind<BatchOutcome<Report>>
)
    async throws -> UUID
{
    try await database.withTransaction { connection in
        try await JobQueue(schema: jobsSchema).enqueueBatch(kind, parts, tenant: tenant, then: callback, Report(session: "s-1"), on: connection)
    }
}

@Suite("job workflows: batches and dependencies")
struct WorkflowTests {
    @Test("a batch's callback runs once when every job has ended, with the counts; progress is readable before")
    func batchCallback() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Part>("test.part", queue: queue, maxAttempts: 1)
            let callback = JobKind<BatchOutcome<Report>>("test.parts-done", queue: queue)
            let tenant = UUID()
            let parts = (0..<10).map { Part(index: $0, fails: $0 % 4 == 0) }
            let batch = try await enqueueBatch(database, kind, parts, tenant: tenant, then: callback)
            let before = try #require(try await JobAdminStore(database: database).batch(tenant: tenant, id: batch))
            #expect(before.total == 10 && before.jobs["available"] == 10 && before.callbackJobId == nil && before.finishedAt == nil)
            #expect(try await JobAdminStore(database: database).batch(tenant: UUID(), id: batch) == nil)

            let outcomes = Seen<BatchOutcome<Report>>()
            var registry = JobRegistry()
            registry.register(kind) { part, _ in
                struct Refused: JobReportable { var description: String { "this part cannot be counted" } }
                if part.fails { throw Refused() }
            }
            registry.register(callback) { outcome, _ in await outcomes.add(outcome) }
            try await whileRunning(testWorker(database, registry, queues: [queue: 4])) {
                let called = try await eventually { await outcomes.count == 1 }
                #expect(called)
                try await Task.sleep(for: .milliseconds(300))
            }
            let outcome = try #require(await outcomes.items.first)
            #expect(await outcomes.count == 1)
            #expect(outcome.batchId == batch && outcome.total == 10 && outcome.succeeded == 7 && outcome.discarded == 3)
            #expect(outcome.arguments == Report(session: "s-1"))
            let after = try #require(try await JobAdminStore(database: database).batch(tenant: tenant, id: batch))
            #expect(after.succeeded == 7 && after.discarded == 3 && after.callbackJobId != nil && after.finishedAt != nil)
            #expect(try await callbacks(database, batch: batch) == 1)
        }
    }

    @Test("a worker killed mid-batch, and two workers racing to finish it, still give exactly one callback")
    func killedWorker() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Part>("test.part", queue: queue, maxAttempts: 3)
            let callback = JobKind<BatchOutcome<Report>>("test.parts-done", queue: queue)
            let tenant = UUID()
            let batch = try await enqueueBatch(database, kind, (0..<40).map { Part(index: $0) }, tenant: tenant, then: callback)
            // A worker claims three parts and dies: nobody completes or heartbeats them.
            let lost = try await JobStore(database: database).claim(queue: queue, limit: 3, after: nil, worker: "killed", lease: .seconds(1))
            #expect(lost.count == 3)

            let outcomes = Seen<BatchOutcome<Report>>()
            var registry = JobRegistry()
            registry.register(kind) { _, _ in try await Task.sleep(for: .milliseconds(5)) }
            registry.register(callback) { outcome, _ in await outcomes.add(outcome) }
            try await whileRunning(testWorker(database, registry, queues: [queue: 4])) {
                try await whileRunning(testWorker(database, registry, queues: [queue: 4])) {
                    let called = try await eventually(timeout: .seconds(40)) { await outcomes.count == 1 }
                    #expect(called)
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(await outcomes.count == 1)
            #expect(await outcomes.items.first?.succeeded == 40)
            #expect(try await callbacks(database, batch: batch) == 1)
        }
    }

    @Test("a job waits on others: it runs after they succeed, and is discarded when one of them is")
    func dependencies() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Part>("test.step", queue: queue, maxAttempts: 1)
            let tenant = UUID()
            let first = try #require(try await enqueue(database, kind, Part(index: 1), tenant: tenant))
            let second = try #require(try await enqueue(database, kind, Part(index: 2), tenant: tenant))
            let last = try #require(try await enqueue(database, kind, Part(index: 3), tenant: tenant, options: .init(after: [first, second])))
            let doomed = try #require(try await enqueue(database, kind, Part(index: 4, fails: true), tenant: tenant))
            let orphan = try #require(try await enqueue(database, kind, Part(index: 5), tenant: tenant, options: .init(after: [doomed, first])))
            #expect(try await jobRow(database, last)?.state == "waiting")

            let order = Seen<Int>()
            var registry = JobRegistry()
            registry.register(kind) { part, _ in
                struct Refused: JobReportable { var description: String { "no" } }
                if part.fails { throw Refused() }
                await order.add(part.index)
            }
            try await whileRunning(testWorker(database, registry, queues: [queue: 2])) {
                let lastRan = try await eventually { try await jobRow(database, last)?.state == "succeeded" }
                let orphanGone = try await eventually { try await jobRow(database, orphan)?.state == "discarded" }
                #expect(lastRan && orphanGone)
            }
            let ran = await order.items
            #expect(ran.last == 3 && Set(ran) == [1, 2, 3])
            let reason = try await jobRow(database, orphan)?.errors.last?["error"] as? String
            #expect(reason == "job \(doomed) it waited on was discarded")

            // Waiting on a discarded job discards at once; an unknown or foreign job is refused.
            let late = try #require(try await enqueue(database, kind, Part(index: 6), tenant: tenant, options: .init(after: [doomed])))
            #expect(try await jobRow(database, late)?.state == "discarded")
            await #expect(throws: JobQueue.EnqueueError.unknownDependencies([first])) {
                _ = try await enqueue(database, kind, Part(index: 7), tenant: UUID(), options: .init(after: [first]))
            }
        }
    }

    @Test("CSV cells are quoted when they hold commas, quotes or line breaks, and formulas are defused")
    func csvCells() {
        #expect(JobCSV.cell("plain") == "plain")
        #expect(JobCSV.cell("a,b") == "\"a,b\"")
        #expect(JobCSV.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(JobCSV.cell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(JobCSV.cell("-1") == "'-1")
    }
}
