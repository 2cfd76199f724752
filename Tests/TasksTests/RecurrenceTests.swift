import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Tasks

@Suite("recurrence rules")
struct RecurrenceTests {
    static let newYork = TimeZone(identifier: "America/New_York") ?? .gmt

    static func date(_ text: String) -> Date { (try? Date(text, strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0) }

    @Test("daily at 09:00 New York time stays at 09:00 across the DST change")
    func dailyAcrossDST() throws {
        let rule = try Recurrence("FREQ=DAILY")
        // 2026-03-07 09:00 EST = 14:00Z; the next day is EDT: 09:00 = 13:00Z.
        #expect(rule.next(after: Self.date("2026-03-07T14:00:00Z"), index: 1, in: Self.newYork) == Self.date("2026-03-08T13:00:00Z"))
        // And back in November: 09:00 EDT 13:00Z → 09:00 EST 14:00Z.
        #expect(rule.next(after: Self.date("2026-10-31T13:00:00Z"), index: 1, in: Self.newYork) == Self.date("2026-11-01T14:00:00Z"))
    }

    @Test("weekly on several days, every other week")
    func weekly() throws {
        let rule = try Recurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH")
        // Monday 2026-11-23 → Thursday 11-26 → Monday 12-07 (skipping a week).
        let monday = Self.date("2026-11-23T10:00:00Z")
        let thursday = try #require(rule.next(after: monday, index: 1, in: .gmt))
        #expect(thursday == Self.date("2026-11-26T10:00:00Z"))
        #expect(rule.next(after: thursday, index: 2, in: .gmt) == Self.date("2026-12-07T10:00:00Z"))
    }

    @Test("monthly on the 31st skips short months; the last Friday; the last day")
    func monthly() throws {
        let thirtyFirst = try Recurrence("FREQ=MONTHLY")
        #expect(thirtyFirst.next(after: Self.date("2026-01-31T08:00:00Z"), index: 1, in: .gmt) == Self.date("2026-03-31T08:00:00Z"))
        let lastFriday = try Recurrence("FREQ=MONTHLY;BYDAY=-1FR")
        #expect(lastFriday.next(after: Self.date("2026-11-27T08:00:00Z"), index: 1, in: .gmt) == Self.date("2026-12-25T08:00:00Z"))
        let lastDay = try Recurrence("FREQ=MONTHLY;BYMONTHDAY=-1")
        #expect(lastDay.next(after: Self.date("2026-01-31T08:00:00Z"), index: 1, in: .gmt) == Self.date("2026-02-28T08:00:00Z"))
    }

    @Test("yearly on Feb 29 waits for a leap year")
    func leapDay() throws {
        let rule = try Recurrence("FREQ=YEARLY")
        #expect(rule.next(after: Self.date("2024-02-29T12:00:00Z"), index: 1, in: .gmt) == Self.date("2028-02-29T12:00:00Z"))
    }

    @Test("COUNT and UNTIL end the series")
    func ends() throws {
        let counted = try Recurrence("FREQ=DAILY;COUNT=3")
        #expect(counted.next(after: Self.date("2026-11-23T10:00:00Z"), index: 2, in: .gmt) != nil)
        #expect(counted.next(after: Self.date("2026-11-24T10:00:00Z"), index: 3, in: .gmt) == nil)
        let until = try Recurrence("FREQ=WEEKLY;UNTIL=20261201")
        #expect(until.next(after: Self.date("2026-11-23T10:00:00Z"), index: 1, in: .gmt) == Self.date("2026-11-30T10:00:00Z"))
        #expect(until.next(after: Self.date("2026-11-30T10:00:00Z"), index: 2, in: .gmt) == nil)
    }

    @Test(
        "rules outside the subset are refused",
        arguments: [
            "", "FREQ=HOURLY", "FREQ=DAILY;INTERVAL=0", "FREQ=WEEKLY;BYDAY=XX", "FREQ=DAILY;BYSETPOS=1", "FREQ=DAILY;COUNT=2;UNTIL=20261201",
            "FREQ=WEEKLY;BYDAY=1MO", "INTERVAL=2",
        ])
    func invalid(_ rule: String) {
        #expect(throws: Recurrence.Invalid.self) { try Recurrence(rule) }
    }
}

@Suite("recurring tasks")
struct RecurringTaskTests {
    @Test("completing an occurrence makes the next one at the same wall-clock time, once, until COUNT ends the series")
    func series() async throws {
        let caller = try await Caller.fresh()
        let first = try await caller.id([
            "title": "Stand-up", "dueAt": "2026-03-07T14:00:00Z", "timeZone": "America/New_York", "recurrence": "FREQ=DAILY;COUNT=2",
            "remindAt": "2026-03-07T13:45:00Z",
        ])
        #expect(try await caller.send("POST", "/v1/tasks/\(first)/complete").status == 200)
        let appeared = try await eventually { try await caller.send("GET", "/v1/tasks?status=todo").items.count == 1 }
        #expect(appeared)
        let second = try #require(try await caller.send("GET", "/v1/tasks?status=todo").items.first)
        #expect(second["title"] as? String == "Stand-up")
        #expect(second["dueAt"] as? String == "2026-03-08T13:00:00Z")
        #expect(second["remindAt"] as? String == "2026-03-08T12:45:00Z")
        #expect(second["occurrence"] as? Int == 2)
        // The job runs again (a crash before it was recorded): still one next occurrence.
        _ = try await withDatabase("tasks") { database in
            try await database.client.query(
                """
                UPDATE tasks.jobs SET state = 'available', finished_at = NULL, run_at = now()
                WHERE kind = 'tasks.recur' AND unique_key = \("recur:" + first.lowercased())
                """, logger: database.logger)
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try await caller.send("GET", "/v1/tasks").items.count == 2)
        let secondID = try #require(second["id"] as? String)
        #expect(try await caller.send("POST", "/v1/tasks/\(secondID)/complete").status == 200)
        try await Task.sleep(for: .seconds(2))
        #expect(try await caller.send("GET", "/v1/tasks?status=todo").items.isEmpty)
    }

    @Test("a rule outside the subset, or a rule without a due date, answers 422")
    func badRules() async throws {
        let caller = try await Caller.fresh()
        #expect(
            try await caller.send("POST", "/v1/tasks", json: ["title": "x", "dueAt": "2026-12-01T10:00:00Z", "recurrence": "FREQ=HOURLY"]).status
                == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "recurrence": "FREQ=DAILY"]).status == 422)
        let id = try await caller.id(["title": "x"])
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["recurrence": "FREQ=WEEKLY"]).status == 422)
        #expect(
            try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["recurrence": "FREQ=WEEKLY", "dueAt": "2026-12-01T10:00:00Z"]).status == 200)
    }
}
