import Contracts
import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Jobs
@testable import Tasks

func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

/// The reminder requests for `task` the outbox holds (the payloads, as JSON text).
func reminderRequests(_ task: String) async throws -> [String] {
    try await withDatabase("tasks") { database in
        var payloads: [String] = []
        for try await payload in try await database.client.query(
            """
            SELECT convert_from(payload, 'UTF8') FROM tasks.outbox
            WHERE topic = \(Topics.notificationsRequest.name) AND convert_from(payload, 'UTF8') LIKE \("%task-reminder:\(task.lowercased()):%")
            """, logger: database.logger
        ).decode(String.self) {
            payloads.append(payload)
        }
        return payloads
    }
}

func reminderJob(_ task: String) async throws -> (state: String, attempt: Int)? {
    try await withDatabase("tasks") { database in
        for try await row in try await database.client.query(
            """
            SELECT state, attempt FROM tasks.jobs WHERE kind = 'tasks.reminder' AND unique_key LIKE \(task.lowercased() + ":%")
            ORDER BY id DESC LIMIT 1
            """, logger: database.logger
        ).decode((String, Int).self) {
            return row
        }
        return nil
    }
}

@Suite("task reminders")
struct ReminderTests {
    @Test("a reminder goes to the assignee once at its time, even when its job runs again after a crash")
    func once() async throws {
        let caller = try await Caller.fresh()
        let assignee = try await caller.member()
        let created = try await caller.create([
            "title": "Call the bank", "assigneeId": assignee.uuidString, "remindAt": iso(Date().addingTimeInterval(1)),
        ])
        let id = try #require(created["id"] as? String)
        let sent = try await eventually { try await reminderRequests(id).count == 1 }
        #expect(sent)
        let request = try #require(try await reminderRequests(id).first)
        #expect(request.lowercased().contains(assignee.uuidString.lowercased()))
        #expect(request.contains("task-reminder"))
        // The worker died after the reminder committed, before recording success: the job
        // comes back (as the lease rescuer would make it) and runs a second time.
        _ = try await withDatabase("tasks") { database in
            try await database.client.query(
                """
                UPDATE tasks.jobs SET state = 'available', finished_at = NULL, run_at = now()
                WHERE kind = 'tasks.reminder' AND unique_key LIKE \(id.lowercased() + ":%")
                """, logger: database.logger)
        }
        let ranAgain = try await eventually { try await reminderJob(id).map { $0.state == "succeeded" && $0.attempt == 2 } ?? false }
        #expect(ranAgain)
        #expect(try await reminderRequests(id).count == 1)
    }

    @Test("a moved reminder goes out at the new time only; a done task is not reminded")
    func moved() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.create(["title": "Renew passport", "remindAt": iso(Date().addingTimeInterval(3600))])
        let id = try #require(created["id"] as? String)
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["remindAt": iso(Date().addingTimeInterval(1))]).status == 200)
        let sent = try await eventually { try await reminderRequests(id).count == 1 }
        #expect(sent)
        let done = try #require(try await caller.create(["title": "Done already", "status": "done", "remindAt": iso(Date())])["id"] as? String)
        let finished = try await eventually { try await reminderJob(done)?.state == "succeeded" }
        #expect(finished)
        #expect(try await reminderRequests(done).isEmpty)
    }

    @Test("a reminder that is not a date, or ten years ahead or more, answers 422")
    func badInput() async throws {
        let caller = try await Caller.fresh()
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "remindAt": "tomorrow"]).status == 422)
        let far = try await caller.send("POST", "/v1/tasks", json: ["title": "x", "remindAt": iso(Date().addingTimeInterval(20 * 366 * 86400))])
        #expect(far.status == 422)
        #expect(far.contentType == "application/problem+json")
    }
}

@Suite("task bin")
struct BinTests {
    @Test("a deleted task leaves reads and lists, and comes back with its subtasks when restored")
    func deleteAndRestore() async throws {
        let caller = try await Caller.fresh()
        let parent = try #require(try await caller.create(["title": "Move house"])["id"] as? String)
        let child = try #require(try await caller.create(["title": "Book the van", "parentId": parent])["id"] as? String)
        #expect(try await caller.send("DELETE", "/v1/tasks/\(parent)").status == 204)
        #expect(try await caller.send("GET", "/v1/tasks/\(parent)").status == 404)
        #expect(try await caller.send("GET", "/v1/tasks/\(child)").status == 404)
        #expect(((try await caller.send("GET", "/v1/tasks")).json["items"] as? [Any])?.isEmpty == true)
        #expect(try await caller.send("POST", "/v1/tasks/\(child)/restore").status == 409)
        let restored = try await caller.send("POST", "/v1/tasks/\(parent)/restore")
        #expect(restored.status == 200)
        #expect(restored.string("title") == "Move house")
        #expect(try await caller.send("GET", "/v1/tasks/\(child)").status == 200)
        #expect(try await caller.send("POST", "/v1/tasks/\(parent)/restore").status == 409)
    }

    @Test("another tenant cannot restore a task; an unknown id answers 404")
    func isolation() async throws {
        let owner = try await Caller.fresh()
        let stranger = try await Caller.fresh()
        let id = try #require(try await owner.create()["id"] as? String)
        #expect(try await owner.send("DELETE", "/v1/tasks/\(id)").status == 204)
        #expect(try await stranger.send("POST", "/v1/tasks/\(id)/restore").status == 404)
        #expect(try await owner.send("POST", "/v1/tasks/\(UUID())/restore").status == 404)
        #expect(try await owner.send("POST", "/v1/tasks/nonsense/restore").status == 404)
        #expect(try await owner.send("POST", "/v1/tasks/\(id)/restore").status == 200)
    }

    @Test("the purge job deletes tasks binned more than 30 days ago, in every tenant, and keeps recent ones")
    func purge() async throws {
        let first = try await Caller.fresh()
        let second = try await Caller.fresh()
        let old = try #require(try await first.create(["title": "Old"])["id"] as? String)
        let recent = try #require(try await second.create(["title": "Recent"])["id"] as? String)
        #expect(try await first.send("DELETE", "/v1/tasks/\(old)").status == 204)
        #expect(try await second.send("DELETE", "/v1/tasks/\(recent)").status == 204)
        try await withDatabase("tasks") { database in
            try await database.withTenant(first.tenant) { connection in
                try await connection.query(
                    "UPDATE tasks.tasks SET deleted_at = now() - interval '31 days' WHERE id = \(UUID(uuidString: old))", logger: database.logger)
                try await connection.query(
                    "UPDATE tasks.binned_tasks SET deleted_at = now() - interval '31 days' WHERE task_id = \(UUID(uuidString: old))",
                    logger: database.logger)
            }
            let context = JobContext(id: 1, tenantID: UUID(), kind: "tasks.purge-bin", attempt: 1, maxAttempts: 1, logger: database.logger)
            try await BinPurge(database: database).purge(context: context)
            let remaining = try await database.withTenant(first.tenant) { connection in
                var count = 0
                for try await _ in try await connection.query(
                    "SELECT 1 FROM tasks.tasks WHERE id = \(UUID(uuidString: old))", logger: database.logger)
                {
                    count += 1
                }
                return count
            }
            #expect(remaining == 0)
        }
        #expect(try await first.send("POST", "/v1/tasks/\(old)/restore").status == 404)
        #expect(try await second.send("POST", "/v1/tasks/\(recent)/restore").status == 200)
    }
}
