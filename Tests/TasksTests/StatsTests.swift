import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite("task stats")
struct StatsTests {
    @Test("open, done and overdue counts, completions per day, and the current streak, for the tenant and the caller")
    func stats() async throws {
        let (url, issuer) = try await TasksServer.shared.get()
        let tenant = UUID.v7()
        let me = UUID.v7()
        let caller = Caller(url: url, token: try await issuer.token(tenant: tenant, subject: me, roles: ["member"]), tenant: tenant)
        let colleague = Caller(url: url, token: try await issuer.token(tenant: tenant, roles: ["member"]), tenant: tenant)
        _ = try await caller.id(["title": "overdue", "dueAt": "2020-01-01T00:00:00Z"])
        let today = try await caller.id(["title": "done today"])
        let yesterday = try await caller.id(["title": "done yesterday"])
        let before = try await caller.id(["title": "done two days ago"])
        _ = try await colleague.id(["title": "theirs"])
        for id in [today, yesterday, before] { #expect(try await caller.send("POST", "/v1/tasks/\(id)/complete").status == 200) }
        try await withDatabase("tasks") { database in
            try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "UPDATE tasks.tasks SET completed_at = now() - interval '1 day' WHERE id = \(UUID(uuidString: yesterday))",
                    logger: database.logger)
                try await connection.query(
                    "UPDATE tasks.tasks SET completed_at = now() - interval '2 days' WHERE id = \(UUID(uuidString: before))", logger: database.logger)
            }
        }
        let stats = try await caller.send("GET", "/v1/tasks/stats")
        #expect(stats.status == 200)
        let mine = try #require(stats.json["me"] as? [String: Any])
        let all = try #require(stats.json["tenant"] as? [String: Any])
        #expect(mine["open"] as? Int == 1)
        #expect(all["open"] as? Int == 2)
        #expect(mine["done"] as? Int == 3)
        #expect(mine["overdue"] as? Int == 1)
        #expect(mine["currentStreak"] as? Int == 3)
        let days = try #require(mine["completedPerDay"] as? [[String: Any]])
        #expect(days.count == 30)
        #expect(days.suffix(3).compactMap { $0["completed"] as? Int } == [1, 1, 1])
        #expect(try await caller.send("GET", "/v1/tasks/stats?timeZone=Nowhere/Special").status == 422)
        let stranger = try await Caller.fresh()
        #expect((try await stranger.send("GET", "/v1/tasks/stats").json["tenant"] as? [String: Any])?["done"] as? Int == 0)
    }
}
