import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs

struct Note: Codable, Sendable, Equatable {
    var text: String
}

@Suite("job queue")
struct JobQueueTests {
    @Test("a job enqueued in a committed transaction runs once, with its id as the idempotency key")
    func runsOnce() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.note", queue: queue)
            let seen = Seen<(Int64, String, String)>()
            var registry = JobRegistry()
            registry.register(kind) { note, context in await seen.add((context.id, context.idempotencyKey, note.text)) }
            let tenant = UUID()
            let id = try #require(try await enqueue(database, kind, Note(text: "hello"), tenant: tenant))
            let worker = testWorker(database, registry, queues: [queue: 2])
            try await whileRunning(worker) {
                let done = try await eventually { try await jobRow(database, id)?.state == "succeeded" }
                #expect(done)
            }
            let items = await seen.items
            #expect(items.count == 1)
            #expect(items.first?.0 == id)
            #expect(items.first?.1 == "job-\(id)")
            #expect(items.first?.2 == "hello")
        }
    }

    @Test("a job due centuries ago runs: its claim latency is no crash (fuzzing found a reminder in the year 333 that stopped tasks)")
    func dueLongAgo() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.ancient", queue: queue)
            var registry = JobRegistry()
            registry.register(kind) { _, _ in }
            let longAgo = try #require(ISO8601DateFormatter().date(from: "0333-10-10T12:42:06Z"))
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID(), options: .init(runAt: longAgo)))
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, id)?.state == "succeeded" }
                #expect(done)
            }
        }
    }

    @Test("a job enqueued in a transaction that rolls back never exists")
    func rolledBack() async throws {
        try await withJobsDatabase { database in
            let kind = JobKind<Note>("test.note", queue: uniqueQueue())
            struct Abort: Error {}
            var id: Int64?
            do {
                try await database.withTransaction { connection in
                    id = try await JobQueue(schema: jobsSchema).enqueue(kind, Note(text: "x"), tenant: UUID(), on: connection)
                    throw Abort()
                }
            } catch is Abort {}
            let enqueued = try #require(id)
            #expect(try await jobRow(database, enqueued) == nil)
        }
    }

    @Test("a failing job is retried with backoff, then discarded with the error of every attempt")
    func retriedThenDiscarded() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            struct Broken: JobReportable { var description: String { "upstream said no" } }
            let kind = JobKind<Note>("test.broken", queue: queue, maxAttempts: 3, retryDelay: { _ in .milliseconds(200) })
            var registry = JobRegistry()
            registry.register(kind) { _, _ in throw Broken() }
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID()))
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, id)?.state == "discarded" }
                #expect(done)
            }
            let row = try #require(try await jobRow(database, id))
            #expect(row.attempt == 3)
            #expect(row.errors.compactMap { $0["attempt"] as? Int } == [1, 2, 3])
            #expect(row.errors.allSatisfy { ($0["error"] as? String)?.contains("upstream said no") == true })
        }
    }

    @Test("an error not written for admins (a database's, say) is stored as an internal error with a reference, never in its own words")
    func internalErrorsSanitised() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            struct Leaky: Error, CustomStringConvertible {
                var description: String { "duplicate key value violates unique constraint secret_table_pkey" }
            }
            let kind = JobKind<Note>("test.leaky", queue: queue, maxAttempts: 1)
            var registry = JobRegistry()
            registry.register(kind) { _, _ in throw Leaky() }
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID()))
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, id)?.state == "discarded" }
                #expect(done)
            }
            let stored = try #require(try await jobRow(database, id)?.errors.first?["error"] as? String)
            #expect(stored.hasPrefix("internal error (ref "))
            #expect(!stored.contains("secret_table"))
        }
    }

    @Test("backoff grows exponentially with jitter and is capped")
    func backoff() {
        let first = Backoff.delay(afterAttempt: 1)
        #expect(first >= .milliseconds(3750) && first <= .milliseconds(6250))
        let fifth = Backoff.delay(afterAttempt: 5)
        #expect(fifth >= .seconds(60) && fifth <= .seconds(100))
        #expect(Backoff.delay(afterAttempt: 40) <= .seconds(6 * 3600 * 5 / 4))
    }

    @Test("a unique job is enqueued once while pending; once it finished the key is free again")
    func unique() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.unique", queue: queue)
            let tenant = UUID()
            let key = "remind:\(UUID())"
            let first = try await enqueue(database, kind, Note(text: "a"), tenant: tenant, options: .init(uniqueKey: key))
            let second = try await enqueue(database, kind, Note(text: "b"), tenant: tenant, options: .init(uniqueKey: key))
            #expect(first != nil)
            #expect(second == nil)
            var registry = JobRegistry()
            registry.register(kind) { _, _ in }
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, try #require(first))?.state == "succeeded" }
                #expect(done)
            }
            #expect(try await enqueue(database, kind, Note(text: "c"), tenant: tenant, options: .init(uniqueKey: key)) != nil)
        }
    }

    @Test("a job whose worker died is run by another worker once its lease expires")
    func rescuedAfterCrash() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.rescue", queue: queue)
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID()))
            // A worker claims it and dies: nobody heartbeats its one-second lease.
            let claimed = try await JobStore(database: database).claim(queue: queue, limit: 1, after: nil, worker: "dead-worker", lease: .seconds(1))
            #expect(claimed.map(\.id) == [id])
            let seen = Seen<Int>()
            var registry = JobRegistry()
            registry.register(kind) { _, context in await seen.add(context.attempt) }
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, id)?.state == "succeeded" }
                #expect(done)
            }
            #expect(await seen.items == [2])
            let row = try #require(try await jobRow(database, id))
            #expect((row.errors.first?["error"] as? String)?.contains("dead-worker") == true)
        }
    }

    @Test("one tenant flooding a queue does not starve another: tenants take turns")
    func fairAcrossTenants() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.fair", queue: queue)
            let flooder = UUID()
            let quiet = UUID()
            try await database.withTransaction { connection in
                try await JobQueue(schema: jobsSchema).enqueueMany(kind, (0..<3000).map { _ in (flooder, Note(text: "flood")) }, on: connection)
            }
            try await database.withTransaction { connection in
                try await JobQueue(schema: jobsSchema).enqueueMany(kind, (0..<10).map { _ in (quiet, Note(text: "quiet")) }, on: connection)
            }
            let seen = Seen<UUID>()
            var registry = JobRegistry()
            registry.register(kind) { _, context in await seen.add(context.tenantID) }
            try await whileRunning(testWorker(database, registry, queues: [queue: 4])) {
                let done = try await eventually { await seen.items.filter { $0 == quiet }.count == 10 }
                #expect(done)
            }
            let order = await seen.items
            let lastQuiet = try #require(order.lastIndex(of: quiet))
            // Turn by turn, the quiet tenant's ten jobs are done within about twenty of the flood's.
            #expect(lastQuiet < 60, "the quiet tenant's last job ran as number \(lastQuiet)")
        }
    }

    @Test("higher priority runs first within a tenant; a paused queue is not claimed until resumed")
    func priorityAndPause() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let admin = JobAdminStore(database: database)
            try await admin.setPaused(queue, true)
            let kind = JobKind<Note>("test.priority", queue: queue)
            let tenant = UUID()
            _ = try await enqueue(database, kind, Note(text: "low"), tenant: tenant, options: .init(priority: 4))
            _ = try await enqueue(database, kind, Note(text: "high"), tenant: tenant, options: .init(priority: 0))
            let seen = Seen<String>()
            var registry = JobRegistry()
            registry.register(kind) { note, _ in await seen.add(note.text) }
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                try await Task.sleep(for: .milliseconds(500))
                #expect(await seen.count == 0)
                try await admin.setPaused(queue, false)
                let done = try await eventually { await seen.count == 2 }
                #expect(done)
            }
            #expect(await seen.items == ["high", "low"])
        }
    }

    @Test("on shutdown a job running past the grace period is given back without counting the attempt")
    func gracefulShutdown() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.slow", queue: queue)
            let started = Seen<Int64>()
            var registry = JobRegistry()
            registry.register(kind) { _, context in
                await started.add(context.id)
                try await Task.sleep(for: .seconds(30))
            }
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID()))
            try await whileRunning(testWorker(database, registry, queues: [queue: 1], grace: .milliseconds(300))) {
                let done = try await eventually { await started.count == 1 }
                #expect(done)
            }
            let row = try #require(try await jobRow(database, id))
            #expect(row.state == "available")
            #expect(row.attempt == 0)
        }
    }

    @Test("a job running longer than its kind's timeout fails with a timeout error")
    func timeout() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.timeout", queue: queue, maxAttempts: 1, timeout: .seconds(1))
            var registry = JobRegistry()
            registry.register(kind) { _, _ in try await Task.sleep(for: .seconds(30)) }
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID()))
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { try await jobRow(database, id)?.state == "discarded" }
                #expect(done)
            }
            let row = try #require(try await jobRow(database, id))
            #expect((row.errors.first?["error"] as? String)?.contains("timed out") == true)
        }
    }

    @Test("a job scheduled for later waits for its time")
    func scheduled() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.later", queue: queue)
            let seen = Seen<Date>()
            var registry = JobRegistry()
            registry.register(kind) { _, _ in await seen.add(Date()) }
            // Far enough ahead that a stalled suite still finds it waiting.
            let due = Date().addingTimeInterval(5)
            let id = try #require(try await enqueue(database, kind, Note(text: "x"), tenant: UUID(), options: .init(runAt: due)))
            #expect(try await jobRow(database, id)?.state == "scheduled")
            try await whileRunning(testWorker(database, registry, queues: [queue: 1])) {
                let done = try await eventually { await seen.count == 1 }
                #expect(done)
            }
            #expect(try #require(await seen.items.first) >= due)
        }
    }

    @Test("the pacer spaces starts of a kind to its rate")
    func pacing() {
        let pacer = Pacer()
        let delays = (0..<3).map { _ in pacer.delay("send", rate: 10) }
        #expect(delays[0] == .zero)
        #expect(delays[1] > .milliseconds(90) && delays[1] <= .milliseconds(100))
        #expect(delays[2] > .milliseconds(190) && delays[2] <= .milliseconds(200))
        #expect(pacer.delay("other", rate: 10) == .zero)
    }

    @Test("the pacer admits a second's burst of a tenant's jobs, then tells how long the next must wait")
    func tenantAdmission() {
        let pacer = Pacer()
        #expect(pacer.admit("send/a", rate: 2) == nil)
        #expect(pacer.admit("send/a", rate: 2) == nil)
        let wait = pacer.admit("send/a", rate: 2)
        #expect(wait != nil && wait! > .milliseconds(400) && wait! <= .milliseconds(500))
        #expect(pacer.admit("send/b", rate: 2) == nil)
    }

    @Test("a tenant over its rate waits its turn in the queue without spending attempts, while another tenant is not held up")
    func pacedPerTenant() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let slow = UUID()
            let free = UUID()
            let kind = JobKind<Note>("test.paced", queue: queue, maxAttempts: 1, tenantRate: { $0 == slow ? 2 : nil })
            try await database.withTransaction { connection in
                try await JobQueue(schema: jobsSchema).enqueueMany(kind, (0..<10).map { _ in (slow, Note(text: "slow")) }, on: connection)
                try await JobQueue(schema: jobsSchema).enqueueMany(kind, (0..<6).map { _ in (free, Note(text: "free")) }, on: connection)
            }
            let seen = Seen<UUID>()
            let started = ContinuousClock.now
            var registry = JobRegistry()
            registry.register(kind) { _, context in
                #expect(context.attempt == 1)
                await seen.add(context.tenantID)
            }
            try await whileRunning(testWorker(database, registry, queues: [queue: 4])) {
                let done = try await eventually { await seen.items.count == 16 }
                #expect(done)
            }
            // Ten jobs at two a second with a burst of two cannot all start within 3.5 s; that
            // long also leaves the other tenant's six time to finish first on a busy machine.
            #expect(ContinuousClock.now - started >= .milliseconds(3500))
            let order = await seen.items
            let lastFree = try #require(order.lastIndex(of: free))
            let lastSlow = try #require(order.lastIndex(of: slow))
            #expect(lastFree < lastSlow)
        }
    }
}
