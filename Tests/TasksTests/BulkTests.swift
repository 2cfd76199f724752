import Foundation
import TestSupport
import Testing

@Suite("bulk task changes")
struct BulkTests {
    @Test("actions by ids: set priority, add and remove a tag, move, complete, reopen, delete; the answer lists what changed")
    func actions() async throws {
        let caller = try await Caller.fresh()
        let project = try #require(try await caller.send("POST", "/v1/projects", json: ["name": "Inbox zero"]).string("id"))
        let a = try await caller.id(["title": "a", "priority": 2])
        let b = try await caller.id(["title": "b"])
        let priority = try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a, b], "action": "setPriority", "value": 2])
        #expect(priority.status == 200)
        #expect((priority.json["changed"] as? [String])?.map { $0.lowercased() } == [b.lowercased()])
        #expect((priority.json["unchanged"] as? [String])?.map { $0.lowercased() } == [a.lowercased()])
        #expect(try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a, b], "action": "addTag", "value": " Later "]).status == 200)
        #expect(try await caller.send("GET", "/v1/tasks?tag=later").items.count == 2)
        #expect(try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a], "action": "removeTag", "value": "later"]).status == 200)
        #expect(try await caller.send("GET", "/v1/tasks?tag=later").titles == ["b"])
        #expect(try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a, b], "action": "move", "value": project]).status == 200)
        #expect(try await caller.send("GET", "/v1/tasks?projectId=\(project)").items.count == 2)
        #expect(try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a, b], "action": "complete"]).status == 200)
        #expect(try await caller.send("GET", "/v1/tasks?status=done").items.count == 2)
        #expect(try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a], "action": "reopen"]).status == 200)
        let deleted = try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [a, b], "action": "delete"])
        #expect((deleted.json["changed"] as? [String])?.count == 2)
        #expect(try await caller.send("GET", "/v1/tasks").items.isEmpty)
    }

    @Test("a filter selects the tasks; subtasks in the request complete before their parent")
    func byFilter() async throws {
        let caller = try await Caller.fresh()
        let parent = try await caller.id(["title": "parent", "tags": ["sprint"]])
        _ = try await caller.id(["title": "child", "tags": ["sprint"], "parentId": parent])
        _ = try await caller.id(["title": "other"])
        let answer = try await caller.send("POST", "/v1/tasks/bulk", json: ["filter": ["tag": "sprint"], "action": "complete"])
        #expect(answer.status == 200)
        #expect(answer.json["matched"] as? Int == 2)
        #expect(try await caller.send("GET", "/v1/tasks?status=done").items.count == 2)
        #expect(try await caller.send("GET", "/v1/tasks?status=todo").titles == ["other"])
    }

    @Test("all or nothing: one task that cannot change refuses the whole request with its reason")
    func allOrNothing() async throws {
        let caller = try await Caller.fresh()
        let free = try await caller.id(["title": "free"])
        let waiting = try await caller.id(["title": "waiting"])
        let blocker = try await caller.id(["title": "blocker"])
        #expect(try await caller.send("POST", "/v1/tasks/\(waiting)/dependencies", json: ["dependsOn": blocker]).status == 201)
        let refused = try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [free, waiting], "action": "complete"])
        #expect(refused.status == 409)
        #expect(String(decoding: refused.body, as: UTF8.self).contains(blocker.lowercased()))
        #expect(try await caller.send("GET", "/v1/tasks/\(free)").string("status") == "todo")
        let stranger = try await Caller.fresh()
        let theirs = try await stranger.id(["title": "theirs"])
        let mixed = try await caller.send("POST", "/v1/tasks/bulk", json: ["ids": [free, theirs], "action": "setPriority", "value": 4])
        #expect(mixed.status == 409)
        #expect(try await caller.send("GET", "/v1/tasks/\(free)").json["priority"] as? Int == 0)
        #expect(try await stranger.send("GET", "/v1/tasks/\(theirs)").json["priority"] as? Int == 0)
    }

    @Test("bad bulk requests answer 422")
    func badInput() async throws {
        let caller = try await Caller.fresh()
        let a = try await caller.id(["title": "a"])
        let cases: [[String: Any]] = [
            ["action": "complete"],
            ["ids": [a], "filter": ["tag": "x"], "action": "complete"],
            ["ids": [a], "action": "explode"],
            ["ids": [a], "action": "setPriority", "value": 9],
            ["ids": [a], "action": "move", "value": "nowhere"],
            ["ids": [a], "action": "addTag", "value": 3],
            ["ids": (0...1000).map { _ in UUID().uuidString }, "action": "complete"],
            ["filter": ["colour": "red"], "action": "complete"],
        ]
        for body in cases {
            let answer = try await caller.send("POST", "/v1/tasks/bulk", json: body)
            #expect(answer.status == 422, "\(body.keys.sorted()) \(body["action"] ?? "")")
        }
        #expect(try await caller.send("GET", "/v1/tasks/\(a)").string("status") == "todo")
    }
}
