import Foundation
import TestSupport
import Testing

@Suite("projects")
struct ProjectTests {
    @Test("create, read, rename with If-Match, list; a stale version answers 412")
    func crud() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.send("POST", "/v1/projects", json: ["name": "  Garden ", "description": "Spring work"])
        #expect(created.status == 201)
        #expect(created.string("name") == "Garden")
        #expect(created.json["archived"] as? Bool == false)
        let id = try #require(created.string("id"))
        #expect(try await caller.send("PATCH", "/v1/projects/\(id)", json: ["name": "Allotment"], headers: ["If-Match": "\"v1\""]).status == 200)
        #expect(try await caller.send("PATCH", "/v1/projects/\(id)", json: ["name": "Yard"], headers: ["If-Match": "\"v1\""]).status == 412)
        let read = try await caller.send("GET", "/v1/projects/\(id)")
        #expect(read.string("name") == "Allotment")
        #expect(read.headers["etag"] == "\"v2\"")
        #expect(try await caller.send("GET", "/v1/projects").items.count == 1)
    }

    @Test("a name of few letters and many combining marks counts its code points: 422, not the database's refusal (fuzzing found a 500)")
    func combiningMarks() async throws {
        let caller = try await Caller.fresh()
        let zalgo = String(repeating: "e\u{0301}\u{0316}\u{0317}\u{0318}", count: 50)  // 50 graphemes, 250 code points
        let refused = try await caller.send("POST", "/v1/projects", json: ["name": zalgo])
        #expect(refused.status == 422)
        let id = try #require(try await caller.send("POST", "/v1/projects", json: ["name": "Plain"]).string("id"))
        #expect(try await caller.send("PATCH", "/v1/projects/\(id)", json: ["name": zalgo]).status == 422)
        #expect(try await caller.send("GET", "/v1/projects/\(id)").string("name") == "Plain")
    }

    @Test("a NUL in a name answers 400 (PostgreSQL text cannot hold it; fuzzing found a 500)")
    func nulInName() async throws {
        let caller = try await Caller.fresh()
        #expect(try await caller.send("POST", "/v1/projects", raw: #"{"name": "a\u0000b"}"#).status == 400)
        #expect(try await caller.send("GET", "/v1/projects").items.isEmpty)
    }

    @Test("an archived project leaves the default list and takes no new tasks until unarchived")
    func archive() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.send("POST", "/v1/projects", json: ["name": "Old"]).string("id"))
        let archived = try await caller.send("POST", "/v1/projects/\(id)/archive")
        #expect(archived.json["archived"] as? Bool == true)
        #expect(try await caller.send("GET", "/v1/projects").items.isEmpty)
        #expect(try await caller.send("GET", "/v1/projects?archived=true").items.count == 1)
        let refused = try await caller.send("POST", "/v1/tasks", json: ["title": "x", "projectId": id])
        #expect(refused.status == 422)
        #expect(try await caller.send("POST", "/v1/projects/\(id)/unarchive").json["archived"] as? Bool == false)
        #expect(try await caller.send("POST", "/v1/tasks", json: ["title": "x", "projectId": id]).status == 201)
    }

    @Test("a project's default order applies to its task list when the request names none")
    func defaultOrder() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.send("POST", "/v1/projects", json: ["name": "Sprint", "defaultSort": "-priority"]).string("id"))
        _ = try await caller.id(["title": "low", "priority": 1, "projectId": id])
        _ = try await caller.id(["title": "urgent", "priority": 4, "projectId": id])
        _ = try await caller.id(["title": "mid", "priority": 2, "projectId": id])
        #expect(try await caller.send("GET", "/v1/tasks?projectId=\(id)").titles == ["urgent", "mid", "low"])
        #expect(try await caller.send("GET", "/v1/tasks?projectId=\(id)&sort=createdAt").titles == ["low", "urgent", "mid"])
    }

    @Test("a project with live tasks cannot be deleted; an empty one can")
    func delete() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.send("POST", "/v1/projects", json: ["name": "Busy"]).string("id"))
        let task = try await caller.id(["title": "x", "projectId": id])
        #expect(try await caller.send("DELETE", "/v1/projects/\(id)").status == 409)
        #expect(try await caller.send("DELETE", "/v1/tasks/\(task)").status == 204)
        #expect(try await caller.send("DELETE", "/v1/projects/\(id)").status == 204)
        #expect(try await caller.send("GET", "/v1/projects/\(id)").status == 404)
    }

    @Test("another tenant's project answers 404 everywhere; bad input answers 422")
    func isolationAndBadInput() async throws {
        let owner = try await Caller.fresh()
        let stranger = try await Caller.fresh()
        let id = try #require(try await owner.send("POST", "/v1/projects", json: ["name": "Mine"]).string("id"))
        #expect(try await stranger.send("GET", "/v1/projects/\(id)").status == 404)
        #expect(try await stranger.send("PATCH", "/v1/projects/\(id)", json: ["name": "x"]).status == 404)
        #expect(try await stranger.send("POST", "/v1/projects/\(id)/archive").status == 404)
        #expect(try await stranger.send("DELETE", "/v1/projects/\(id)").status == 404)
        #expect(try await stranger.send("POST", "/v1/tasks", json: ["title": "x", "projectId": id]).status == 422)
        #expect(try await owner.send("POST", "/v1/projects", json: ["name": ""]).status == 422)
        #expect(try await owner.send("POST", "/v1/projects", json: ["name": "x", "defaultSort": "title"]).status == 422)
        #expect(try await owner.send("PATCH", "/v1/projects/\(id)", json: ["name": NSNull()]).status == 422)
        #expect(try await owner.send("GET", "/v1/projects?archived=maybe").status == 422)
        #expect(try await owner.send("GET", "/v1/projects/\(id)").string("name") == "Mine")
    }
}
