import Foundation
import TestSupport
import Testing

extension Caller {
    func id(_ body: [String: Any]) async throws -> String {
        guard let id = try await create(body)["id"] as? String else { throw TaskTestError.status(0, "no id") }
        return id
    }
}

@Suite("task rules")
struct TaskRulesTests {
    @Test("priority is 0 to 4, time zones are IANA names, blocked is a status")
    func fields() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.create(["title": "Pay rent", "priority": 4, "timeZone": "Europe/Berlin", "status": "blocked"])
        #expect(created["priority"] as? Int == 4)
        #expect(created["timeZone"] as? String == "Europe/Berlin")
        #expect(created["status"] as? String == "blocked")
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "priority": 5]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "priority": "high"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "timeZone": "Mars/Olympus"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "description": String(repeating: "é", count: 60_000)]).status == 422)
        let id = try #require(created["id"] as? String)
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["priority": -1]).status == 422)
        #expect(try await caller.send("GET", "/v1/tasks/\(id)").json["priority"] as? Int == 4)
    }

    @Test("subtasks nest up to seven levels; an eighth is refused, also by moving a subtree under a deep task")
    func depth() async throws {
        let caller = try await Caller.fresh()
        var parent = try await caller.id(["title": "level 1"])
        for level in 2...7 { parent = try await caller.id(["title": "level \(level)", "parentId": parent]) }
        let tooDeep = try await caller.send("POST", "/v1/tasks", json: ["title": "level 8", "parentId": parent])
        #expect(tooDeep.status == 422)
        #expect(String(decoding: tooDeep.body, as: UTF8.self).contains("7 levels"))
        let top = try await caller.id(["title": "other root"])
        _ = try await caller.id(["title": "its child", "parentId": top])
        let level5 = try #require(try await caller.send("GET", "/v1/tasks/\(parent)").json["parentId"] as? String)
        // level 6 + a two-level subtree = 8 levels.
        let moved = try await caller.send("PATCH", "/v1/tasks/\(top)", json: ["parentId": level5])
        #expect(moved.status == 422)
    }

    @Test("a parent with open subtasks completes only with cascade, and reports its progress")
    func cascade() async throws {
        let caller = try await Caller.fresh()
        let parent = try await caller.id(["title": "Launch"])
        let first = try await caller.id(["title": "Write copy", "parentId": parent])
        let second = try await caller.id(["title": "Design", "parentId": parent])
        _ = try await caller.id(["title": "Dropped", "parentId": parent, "status": "cancelled"])
        #expect(try await caller.send("POST", "/v1/tasks/\(first)/complete").status == 200)
        #expect(try await caller.send("GET", "/v1/tasks/\(parent)").json["progress"] as? Double == 0.5)
        let refused = try await caller.send("POST", "/v1/tasks/\(parent)/complete")
        #expect(refused.status == 409)
        #expect(String(decoding: refused.body, as: UTF8.self).contains(second.lowercased()))
        #expect(try await caller.send("PATCH", "/v1/tasks/\(parent)", json: ["status": "done"]).status == 409)
        let done = try await caller.send("POST", "/v1/tasks/\(parent)/complete?cascade=true")
        #expect(done.status == 200)
        #expect(done.string("status") == "done")
        #expect(done.json["progress"] as? Double == 1.0)
        #expect(try await caller.send("GET", "/v1/tasks/\(second)").string("status") == "done")
        let reopened = try await caller.send("POST", "/v1/tasks/\(parent)/reopen")
        #expect(reopened.string("status") == "todo")
        #expect(reopened.json["completedAt"] == nil)
        #expect(try await caller.send("POST", "/v1/tasks/\(parent)/complete?cascade=maybe").status == 422)
    }

    @Test("dependencies: a task waiting for an open one is blocked and cannot complete; a cycle is refused and named")
    func dependencies() async throws {
        let caller = try await Caller.fresh()
        let a = try await caller.id(["title": "A"])
        let b = try await caller.id(["title": "B"])
        let c = try await caller.id(["title": "C"])
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/dependencies", json: ["dependsOn": b]).status == 201)
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/dependencies", json: ["dependsOn": b]).status == 200)
        #expect(try await caller.send("POST", "/v1/tasks/\(b)/dependencies", json: ["dependsOn": c]).status == 201)
        #expect(try await caller.send("GET", "/v1/tasks/\(a)").json["blocked"] as? Bool == true)
        let cycle = try await caller.send("POST", "/v1/tasks/\(c)/dependencies", json: ["dependsOn": a])
        #expect(cycle.status == 422)
        let message = String(decoding: cycle.body, as: UTF8.self)
        #expect(message.contains("\(c.lowercased()) → \(a.lowercased()) → \(b.lowercased()) → \(c.lowercased())"))
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/dependencies", json: ["dependsOn": a]).status == 422)
        let refused = try await caller.send("POST", "/v1/tasks/\(a)/complete")
        #expect(refused.status == 409)
        #expect(String(decoding: refused.body, as: UTF8.self).contains(b.lowercased()))
        #expect(try await caller.send("POST", "/v1/tasks/\(c)/complete").status == 200)
        #expect(try await caller.send("POST", "/v1/tasks/\(b)/complete").status == 200)
        #expect(try await caller.send("GET", "/v1/tasks/\(a)").json["blocked"] as? Bool == false)
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/complete").status == 200)
        let listed = try await caller.send("GET", "/v1/tasks/\(b)/dependencies")
        #expect(listed.json["blocking"] as? [String] == [a.lowercased()])
        #expect(try await caller.send("DELETE", "/v1/tasks/\(a)/dependencies/\(b)").status == 204)
        #expect(try await caller.send("DELETE", "/v1/tasks/\(a)/dependencies", json: ["dependsOn": b]).status == 404)
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/dependencies", json: ["dependsOn": UUID().uuidString]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks/\(a)/dependencies", json: ["nothing": true]).status == 422)
    }

    @Test("another tenant's task answers 404 on complete, reopen, dependencies and activity")
    func isolation() async throws {
        let owner = try await Caller.fresh()
        let stranger = try await Caller.fresh()
        let id = try await owner.id(["title": "Mine"])
        let theirs = try await stranger.id(["title": "Theirs"])
        #expect(try await stranger.send("POST", "/v1/tasks/\(id)/complete").status == 404)
        #expect(try await stranger.send("POST", "/v1/tasks/\(id)/reopen").status == 404)
        #expect(try await stranger.send("GET", "/v1/tasks/\(id)/dependencies").status == 404)
        #expect(try await stranger.send("GET", "/v1/tasks/\(id)/activity").status == 404)
        #expect(try await stranger.send("POST", "/v1/tasks/\(theirs)/dependencies", json: ["dependsOn": id]).status == 422)
        #expect(try await owner.send("GET", "/v1/tasks/\(id)").string("status") == "todo")
    }

    @Test("the activity history says who changed what, when, oldest first")
    func activity() async throws {
        let caller = try await Caller.fresh()
        let id = try await caller.id(["title": "Draft", "priority": 1])
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["title": "Final", "priority": 3]).status == 200)
        #expect(try await caller.send("POST", "/v1/tasks/\(id)/complete").status == 200)
        let history = try await caller.send("GET", "/v1/tasks/\(id)/activity")
        #expect(history.status == 200)
        let items = try #require(history.json["items"] as? [[String: Any]])
        #expect(items.compactMap { $0["action"] as? String } == ["created", "updated", "completed"])
        let changes = try #require(items[1]["changes"] as? [String: Any])
        #expect((changes["title"] as? [String: Any])?["from"] as? String == "Draft")
        #expect((changes["title"] as? [String: Any])?["to"] as? String == "Final")
        #expect((changes["priority"] as? [String: Any])?["to"] as? Int == 3)
        #expect(items.allSatisfy { $0["actor"] is String && $0["at"] is String })
        let paged = try await caller.send("GET", "/v1/tasks/\(id)/activity?limit=2")
        let cursor = try #require(paged.json["nextCursor"] as? String)
        let rest = try await caller.send("GET", "/v1/tasks/\(id)/activity?limit=2&cursor=\(cursor)")
        #expect((rest.json["items"] as? [[String: Any]])?.first?["action"] as? String == "completed")
        #expect(try await caller.send("GET", "/v1/tasks/\(id)/activity?cursor=garbage").status == 400)
    }
}
