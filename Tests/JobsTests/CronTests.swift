import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs

@Suite("cron schedules")
struct CronScheduleTests {
    static let newYork = TimeZone(identifier: "America/New_York") ?? .gmt

    static func date(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0)
    }

    @Test("minute steps, hour ranges and weekday names")
    func fields() throws {
        let schedule = try CronSchedule("*/15 9-17 * * MON-FRI", timeZone: .gmt)
        // Saturday 2026-11-21 → Monday 09:00.
        #expect(schedule.next(after: Self.date("2026-11-21T10:00:00Z")) == Self.date("2026-11-23T09:00:00Z"))
        #expect(schedule.next(after: Self.date("2026-11-23T09:00:00Z")) == Self.date("2026-11-23T09:15:00Z"))
        #expect(schedule.next(after: Self.date("2026-11-23T17:45:00Z")) == Self.date("2026-11-24T09:00:00Z"))
    }

    @Test("a time zone's wall clock, across a DST change")
    func timeZone() throws {
        let schedule = try CronSchedule("0 9 * * *", timeZone: Self.newYork)
        // 09:00 EST is 14:00Z; after the change to EDT on 2026-03-08, 09:00 is 13:00Z.
        #expect(schedule.next(after: Self.date("2026-03-07T15:00:00Z")) == Self.date("2026-03-08T13:00:00Z"))
        #expect(schedule.next(after: Self.date("2026-03-06T15:00:00Z")) == Self.date("2026-03-07T14:00:00Z"))
    }

    @Test("a local time the spring-forward gap skips does not fire that day; a repeated hour fires once")
    func dstEdges() throws {
        let gap = try CronSchedule("30 2 * * *", timeZone: Self.newYork)
        // 2026-03-08 02:30 does not exist in New York; the next 02:30 is on 03-09 (EDT, 06:30Z).
        #expect(gap.next(after: Self.date("2026-03-08T05:00:00Z")) == Self.date("2026-03-09T06:30:00Z"))
        let repeated = try CronSchedule("30 1 * * *", timeZone: Self.newYork)
        // 2026-11-01 01:30 happens twice (EDT 05:30Z, then EST 06:30Z): once is enough.
        let first = repeated.next(after: Self.date("2026-11-01T04:00:00Z"))
        #expect(first == Self.date("2026-11-01T05:30:00Z"))
        #expect(repeated.next(after: try #require(first)) == Self.date("2026-11-02T06:30:00Z"))
    }

    @Test("a half-hour zone's hours start at its own :00")
    func halfHourZone() throws {
        let schedule = try CronSchedule("0 9 * * *", timeZone: TimeZone(identifier: "Asia/Kolkata") ?? .gmt)
        #expect(schedule.next(after: Self.date("2026-11-23T00:00:00Z")) == Self.date("2026-11-23T03:30:00Z"))
    }

    @Test("day of month and day of week both restricted: either matches")
    func eitherDay() throws {
        let schedule = try CronSchedule("0 0 1 * SUN", timeZone: .gmt)
        // 2026-11-23 is a Monday: next is Sunday the 29th, then December 1st (a Tuesday).
        let sunday = schedule.next(after: Self.date("2026-11-23T00:00:00Z"))
        #expect(sunday == Self.date("2026-11-29T00:00:00Z"))
        #expect(schedule.next(after: try #require(sunday)) == Self.date("2026-12-01T00:00:00Z"))
    }

    @Test(
        "malformed expressions are refused with the field named",
        arguments: ["* * * *", "61 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "* * * FOO *"])
    func invalid(_ expression: String) {
        #expect(throws: CronSchedule.InvalidExpression.self) { try CronSchedule(expression, timeZone: .gmt) }
    }
}

@Suite("cron slots")
struct CronSlotTests {
    @Test("two workers with the same schedule fire the current slot once, even when started inside it")
    func firedOnce() async throws {
        try await withJobsDatabase { database in
            let queue = uniqueQueue()
            let kind = JobKind<Note>("test.cron", queue: queue)
            let name = "digest-\(UUID().uuidString.prefix(8))"
            let cron = try Cron(name, "* * * * *", kind: kind, arguments: Note(text: "tick"))
            let seen = Seen<Int64>()
            var registry = JobRegistry()
            registry.register(kind) { _, context in await seen.add(context.id) }
            // Two workers with pools of their own, as two processes would have.
            let secondPool = try TestEnvironment.database(jobsSchema)
            let poolTask = Task { await secondPool.client.run() }
            defer { poolTask.cancel() }
            let first = testWorker(database, registry, queues: [queue: 1], crons: [cron])
            let second = testWorker(secondPool, registry, queues: [queue: 1], crons: [cron])
            try await whileRunning(first) {
                try await whileRunning(second) {
                    let done = try await eventually { await seen.count >= 1 }
                    #expect(done)
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            var slots: [Date] = []
            for try await slot in try await database.client.query(
                "SELECT slot FROM \(unescaped: jobsSchema).cron_runs WHERE name = \(name)", logger: database.logger
            ).decode(Date.self) {
                slots.append(slot)
            }
            // Started inside a minute no one had fired: that minute fired, once (twice only
            // if the test straddled a minute boundary, each slot still once).
            #expect((1...2).contains(slots.count))
            #expect(Set(slots).count == slots.count)
            #expect(await seen.count == slots.count)
        }
    }
}
