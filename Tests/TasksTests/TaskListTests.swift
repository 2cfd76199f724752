import Foundation
import TestSupport
import Testing

extension HTTPAnswer {
    var titles: [String] { items.compactMap { $0["title"] as? String } }
}

@Suite("task lists")
struct TaskListTests {
    @Test("filters: status, tag, assignee, priority, due window, text, parent and project")
    func filters() async throws {
        let caller = try await Caller.fresh()
        let assignee = try await caller.member().uuidString
        let parent = try await caller.id(["title": "Holiday"])
        _ = try await caller.id(["title": "Book flights", "tags": ["travel"], "priority": 3, "dueAt": "2026-12-01T10:00:00Z", "parentId": parent])
        _ = try await caller.id(["title": "Pack bags", "tags": ["travel", "home"], "assigneeId": assignee, "dueAt": "2026-12-20T10:00:00Z"])
        _ = try await caller.id(["title": "Water plants", "description": "ask the NEIGHBOURS", "status": "in_progress"])
        #expect(try await caller.send("GET", "/v1/tasks?tag=travel&sort=createdAt").titles == ["Book flights", "Pack bags"])
        #expect(try await caller.send("GET", "/v1/tasks?assigneeId=\(assignee)").titles == ["Pack bags"])
        #expect(try await caller.send("GET", "/v1/tasks?priority=3").titles == ["Book flights"])
        #expect(try await caller.send("GET", "/v1/tasks?dueBefore=2026-12-10T00:00:00Z").titles == ["Book flights"])
        #expect(try await caller.send("GET", "/v1/tasks?dueAfter=2026-12-10T00:00:00Z").titles == ["Pack bags"])
        #expect(try await caller.send("GET", "/v1/tasks?q=neighbours").titles == ["Water plants"])
        #expect(try await caller.send("GET", "/v1/tasks?q=100%25").titles == [])
        #expect(try await caller.send("GET", "/v1/tasks?status=in_progress").titles == ["Water plants"])
        #expect(try await caller.send("GET", "/v1/tasks?parentId=\(parent)").titles == ["Book flights"])
    }

    @Test("sorts: due date soonest with undated last, priority highest, manual position")
    func sorts() async throws {
        let caller = try await Caller.fresh()
        _ = try await caller.id(["title": "later", "dueAt": "2026-12-20T10:00:00Z", "priority": 1, "position": 30])
        _ = try await caller.id(["title": "undated", "priority": 4, "position": 10])
        _ = try await caller.id(["title": "sooner", "dueAt": "2026-12-01T10:00:00Z", "priority": 2, "position": 20])
        #expect(try await caller.send("GET", "/v1/tasks?sort=dueAt").titles == ["sooner", "later", "undated"])
        #expect(try await caller.send("GET", "/v1/tasks?sort=-priority").titles == ["undated", "sooner", "later"])
        #expect(try await caller.send("GET", "/v1/tasks?sort=position").titles == ["undated", "sooner", "later"])
        #expect(try await caller.send("GET", "/v1/tasks?sort=-createdAt").titles == ["sooner", "undated", "later"])
    }

    @Test("paging through while tasks are added and changed shows every task once", arguments: ["dueAt", "-priority", "createdAt", "position"])
    func stablePages(sort: String) async throws {
        let caller = try await Caller.fresh()
        var original: [String] = []
        for index in 0..<23 {
            var body: [String: Any] = ["title": "task \(index)", "priority": index % 5, "position": (index % 4) * 10]
            if index % 3 != 0 { body["dueAt"] = "2026-12-\(String(format: "%02d", 1 + index % 9))T10:00:00Z" }
            original.append(try await caller.id(body))
        }
        var seen: [String] = []
        var cursor: String?
        var round = 0
        repeat {
            let query = "/v1/tasks?sort=\(sort)&limit=5" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await caller.send("GET", query)
            #expect(page.status == 200)
            seen += page.items.compactMap { $0["id"] as? String }
            cursor = page.json["nextCursor"] as? String
            // Meanwhile: a new task, and an edit that does not touch the sort key.
            _ = try await caller.id(["title": "added \(round)", "priority": 2, "dueAt": "2026-12-05T10:00:00Z", "position": 15])
            _ = try await caller.send("PATCH", "/v1/tasks/\(original[round % original.count])", json: ["title": "edited \(round)"])
            round += 1
        } while cursor != nil && round < 40
        #expect(Set(seen).count == seen.count, "a task appeared twice")
        let upper = Set(seen.map { $0.uppercased() })
        #expect(original.allSatisfy { upper.contains($0.uppercased()) }, "a task went missing")
    }

    @Test("bad list parameters and cursors answer 400 or 422 problem details")
    func badInput() async throws {
        let caller = try await Caller.fresh()
        for query in ["status=someday", "sort=title", "priority=9", "dueBefore=tomorrow", "assigneeId=nobody", "tag=", "q="] {
            let answer = try await caller.send("GET", "/v1/tasks?\(query)")
            #expect(answer.status == 422, "\(query)")
            #expect(answer.contentType == "application/problem+json")
        }
        _ = try await caller.id(["title": "a"])
        _ = try await caller.id(["title": "b"])
        let page = try await caller.send("GET", "/v1/tasks?sort=dueAt&limit=1")
        let cursor = try #require(page.json["nextCursor"] as? String)
        #expect(try await caller.send("GET", "/v1/tasks?sort=priority&limit=1&cursor=\(cursor)").status == 400)
        let forged = Data(#"{"sort":"dueAt","key":"2026-02-30T00:00:00.000000","id":"0190d5a2-7c1e-7a10-8f00-0000000000b1"}"#.utf8)
            .base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(try await caller.send("GET", "/v1/tasks?sort=dueAt&cursor=\(forged)").status == 400)
    }
}

@Suite("saved task filters")
struct SavedFilterTests {
    @Test("a user saves, reads, replaces and deletes filters; another user or tenant sees none of them")
    func crud() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.send(
            "POST", "/v1/task-filters", json: ["name": "Urgent travel", "parameters": ["tag": "travel", "priority": "4", "sort": "dueAt"]])
        #expect(created.status == 201)
        let id = try #require(created.string("id"))
        #expect(try await caller.send("GET", "/v1/task-filters").items.count == 1)
        #expect((try await caller.send("GET", "/v1/task-filters/\(id)").json["parameters"] as? [String: String])?["tag"] == "travel")
        let replaced = try await caller.send("PUT", "/v1/task-filters/\(id)", json: ["name": "Travel", "parameters": ["tag": "travel"]])
        #expect(replaced.status == 200)
        #expect(replaced.string("name") == "Travel")
        #expect(try await caller.send("POST", "/v1/task-filters", json: ["name": "Travel", "parameters": [:] as [String: String]]).status == 409)
        let stranger = try await Caller.fresh()
        #expect(try await stranger.send("GET", "/v1/task-filters/\(id)").status == 404)
        #expect(try await stranger.send("DELETE", "/v1/task-filters/\(id)").status == 404)
        #expect(try await stranger.send("GET", "/v1/task-filters").items.isEmpty)
        #expect(try await caller.send("DELETE", "/v1/task-filters/\(id)").status == 204)
        #expect(try await caller.send("GET", "/v1/task-filters/\(id)").status == 404)
    }

    @Test("a filter with unknown or invalid parameters is refused")
    func invalid() async throws {
        let caller = try await Caller.fresh()
        #expect(try await caller.send("POST", "/v1/task-filters", json: ["name": "x", "parameters": ["colour": "red"]]).status == 422)
        #expect(try await caller.send("POST", "/v1/task-filters", json: ["name": "x", "parameters": ["priority": "9"]]).status == 422)
        #expect(try await caller.send("POST", "/v1/task-filters", json: ["name": "", "parameters": [:] as [String: String]]).status == 422)
        #expect(try await caller.send("POST", "/v1/task-filters", json: ["parameters": [:] as [String: String]]).status == 422)
    }
}
