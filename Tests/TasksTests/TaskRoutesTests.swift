import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite("tasks API")
struct TaskRoutesTests {
    @Test("a created task can be read back, with its ETag")
    func createAndGet() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.create(["title": "  Write the report ", "tags": ["Finance", "finance", "board"], "priority": 3])
        #expect(created["title"] as? String == "Write the report")
        #expect(created["tags"] as? [String] == ["finance", "board"])
        #expect(created["status"] as? String == "todo")
        let id = try #require(created["id"] as? String)
        #expect(id == id.lowercased() && (created["createdBy"] as? String).map { $0 == $0.lowercased() } != false)
        // Ids are written lower-case and read in either case.
        let read = try await caller.send("GET", "/v1/tasks/\(id.uppercased())")
        #expect(read.status == 200)
        #expect(read.json["id"] as? String == id)
        #expect(read.headers["etag"] == "\"v1\"")
        #expect(read.json["priority"] as? Int == 3)
    }

    @Test("another tenant's task answers 404 to read, update and delete")
    func tenantIsolation() async throws {
        let owner = try await Caller.fresh()
        let stranger = try await Caller.fresh(roles: ["owner"])
        let id = try #require(try await owner.create()["id"] as? String)
        #expect(try await stranger.send("GET", "/v1/tasks/\(id)").status == 404)
        #expect(try await stranger.send("PATCH", "/v1/tasks/\(id)", json: ["title": "mine now"]).status == 404)
        #expect(try await stranger.send("DELETE", "/v1/tasks/\(id)").status == 404)
        #expect(try await owner.send("GET", "/v1/tasks/\(id)").string("title") == "Write the report")
        let list = try await stranger.send("GET", "/v1/tasks")
        #expect((list.json["items"] as? [Any])?.isEmpty == true)
    }

    @Test("a patch changes only the fields it names; null clears an optional field")
    func patch() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.create(["title": "Draft", "description": "first", "estimateMinutes": 30])["id"] as? String)
        let answer = try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["description": NSNull(), "status": "in_progress"])
        #expect(answer.status == 200)
        #expect(answer.string("title") == "Draft")
        #expect(answer.json["description"] == nil)
        #expect(answer.json["estimateMinutes"] as? Int == 30)
        #expect(answer.string("status") == "in_progress")
        #expect(answer.headers["etag"] == "\"v2\"")
    }

    @Test("If-Match with a stale version answers 412 and changes nothing")
    func ifMatch() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.create()["id"] as? String)
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["title": "v2"], headers: ["If-Match": "\"v1\""]).status == 200)
        let stale = try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["title": "lost update"], headers: ["If-Match": "\"v1\""])
        #expect(stale.status == 412)
        #expect(try await caller.send("GET", "/v1/tasks/\(id)").string("title") == "v2")
        #expect(try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["title": "x"], headers: ["If-Match": "garbage"]).status == 400)
    }

    @Test("invalid input answers 400 or 422 problem+json and stores nothing")
    func badInput() async throws {
        let caller = try await Caller.fresh()
        let malformed = try await caller.send("POST", "/v1/tasks", raw: "{\"title\": \"x\"")
        #expect(malformed.status == 400)
        #expect(malformed.contentType == "application/problem+json")
        #expect(try await caller.send("POST", "/v1/tasks", json: ["description": "no title"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "   "]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "status": "someday"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "dueAt": "tomorrow"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": String(repeating: "x", count: 501)]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "parentId": UUID().uuidString]).status == 422)
        #expect(try await caller.send("GET", "/v1/tasks?limit=1000").status == 422)
        #expect(try await caller.send("GET", "/v1/tasks?cursor=%25%25").status == 400)
        #expect(try await caller.send("GET", "/v1/tasks/not-a-uuid").status == 404)
        let list = try await caller.send("GET", "/v1/tasks")
        #expect((list.json["items"] as? [Any])?.isEmpty == true)
    }

    @Test("a task cannot become its own ancestor")
    func cycle() async throws {
        let caller = try await Caller.fresh()
        let parent = try #require(try await caller.create(["title": "parent"])["id"] as? String)
        let child = try #require(try await caller.create(["title": "child", "parentId": parent])["id"] as? String)
        let answer = try await caller.send("PATCH", "/v1/tasks/\(parent)", json: ["parentId": child])
        #expect(answer.status == 422)
    }

    @Test("deleting a task deletes its subtasks")
    func delete() async throws {
        let caller = try await Caller.fresh()
        let parent = try #require(try await caller.create(["title": "parent"])["id"] as? String)
        let child = try #require(try await caller.create(["title": "child", "parentId": parent])["id"] as? String)
        #expect(try await caller.send("DELETE", "/v1/tasks/\(parent)").status == 204)
        #expect(try await caller.send("GET", "/v1/tasks/\(child)").status == 404)
        #expect(try await caller.send("DELETE", "/v1/tasks/\(parent)").status == 404)
    }

    @Test("the list pages through every task, newest first, with a cursor")
    func pagination() async throws {
        let caller = try await Caller.fresh()
        var created: [String] = []
        for index in 0..<5 { created.append(try #require(try await caller.create(["title": "task \(index)"])["id"] as? String)) }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let query = cursor.map { "?limit=2&cursor=\($0)" } ?? "?limit=2"
            let page = try await caller.send("GET", "/v1/tasks\(query)")
            seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = page.string("nextCursor")
        } while cursor != nil
        #expect(seen == created.reversed())
        let done = try await caller.send("GET", "/v1/tasks?status=done")
        #expect((done.json["items"] as? [Any])?.isEmpty == true)
    }

    @Test("a viewer may read but not write; no token answers 401")
    func roles() async throws {
        let viewer = try await Caller.fresh(roles: ["viewer"])
        #expect(try await viewer.send("POST", "/v1/tasks", json: ["title": "x"]).status == 403)
        #expect(try await viewer.send("GET", "/v1/tasks").status == 200)
        #expect(try await TestHTTP.send("GET", viewer.url + "/v1/tasks").status == 401)
    }

    @Test("every change writes its tasks.task.v1 event to the outbox in order")
    func events() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.create()["id"] as? String)
        _ = try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["title": "renamed"])
        _ = try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["status": "done"])
        _ = try await caller.send("PATCH", "/v1/tasks/\(id)", json: ["status": "todo"])
        _ = try await caller.send("DELETE", "/v1/tasks/\(id)")
        let tenant = caller.tenant
        let types = try await withDatabase("tasks") { database in
            try await database.client.query(
                "SELECT event_type FROM tasks.outbox WHERE tenant_id = \(tenant) ORDER BY id", logger: database.logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
        }
        #expect(types == ["tasks.task.created", "tasks.task.updated", "tasks.task.completed", "tasks.task.reopened", "tasks.task.deleted"])
    }
}
