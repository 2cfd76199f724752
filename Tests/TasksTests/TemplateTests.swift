import Foundation
import TestSupport
import Testing

@Suite("task templates")
struct TemplateTests {
    static var onboarding: [String: Any] {
        [
            "name": "Onboarding",
            "tasks": [
                [
                    "title": "Onboard {{name}}", "due": "+7d", "priority": 3,
                    "subtasks": [
                        ["title": "Laptop for {{name}}", "due": "+1d"],
                        ["title": "Accounts", "description": "Email for {{ name }} in {{team}}", "due": "+3d", "tags": ["it"]],
                    ],
                ]
            ],
        ]
    }

    @Test("a template with variables and relative due dates instantiates into a task tree")
    func instantiate() async throws {
        let caller = try await Caller.fresh()
        let created = try await caller.send("POST", "/v1/task-templates", json: Self.onboarding)
        #expect(created.status == 201)
        #expect(created.json["variables"] as? [String] == ["name", "team"])
        let id = try #require(created.string("id"))
        let made = try await caller.send(
            "POST", "/v1/task-templates/\(id)/instantiate",
            json: ["variables": ["name": "Ada", "team": "Platform"], "start": "2026-03-05T09:00:00Z", "timeZone": "America/New_York"])
        #expect(made.status == 201)
        let root = try #require((made.json["items"] as? [[String: Any]])?.first)
        #expect(root["title"] as? String == "Onboard Ada")
        // 09:00Z on 03-05 is 04:00 EST; seven wall-clock days later is 04:00 EDT on 03-12 = 08:00Z.
        #expect(root["dueAt"] as? String == "2026-03-12T08:00:00Z")
        let children = try await caller.send("GET", "/v1/tasks?parentId=\(try #require(root["id"] as? String))&sort=dueAt")
        #expect(children.titles == ["Laptop for Ada", "Accounts"])
        #expect(children.items.last?["description"] as? String == "Email for Ada in Platform")
        #expect((children.items.last?["tags"] as? [String]) == ["it"])
    }

    @Test("an existing task tree is saved as a template, due dates as offsets")
    func fromTask() async throws {
        let caller = try await Caller.fresh()
        let root = try await caller.id(["title": "Release", "dueAt": "2026-12-10T12:00:00Z"])
        _ = try await caller.id(["title": "Freeze", "parentId": root, "dueAt": "2026-12-08T12:00:00Z"])
        let created = try await caller.send("POST", "/v1/task-templates", json: ["name": "Release", "fromTaskId": root])
        #expect(created.status == 201)
        let tasks = try #require(created.json["tasks"] as? [[String: Any]])
        #expect(tasks.first?["due"] as? String == "+2d")
        #expect((tasks.first?["subtasks"] as? [[String: Any]])?.first?["due"] as? String == "+0d")
    }

    @Test("missing variables, bad offsets, too deep, duplicate names and another tenant's template are refused")
    func refusals() async throws {
        let caller = try await Caller.fresh()
        let id = try #require(try await caller.send("POST", "/v1/task-templates", json: Self.onboarding).string("id"))
        let missing = try await caller.send("POST", "/v1/task-templates/\(id)/instantiate", json: ["variables": ["name": "Ada"]])
        #expect(missing.status == 422)
        #expect(String(decoding: missing.body, as: UTF8.self).contains("variables.team"))
        #expect(try await caller.send("GET", "/v1/tasks").items.isEmpty)
        #expect(try await caller.send("POST", "/v1/task-templates", json: Self.onboarding).status == 409)
        #expect(
            try await caller.send("POST", "/v1/task-templates", json: ["name": "x", "tasks": [["title": "a", "due": "tomorrow"]]]).status == 422)
        var deep: [String: Any] = ["title": "8"]
        for level in (1...7).reversed() { deep = ["title": "\(level)", "subtasks": [deep]] }
        #expect(try await caller.send("POST", "/v1/task-templates", json: ["name": "deep", "tasks": [deep]]).status == 422)
        #expect(try await caller.send("POST", "/v1/task-templates", json: ["name": "empty", "tasks": [] as [Any]]).status == 422)
        let stranger = try await Caller.fresh()
        #expect(try await stranger.send("GET", "/v1/task-templates/\(id)").status == 404)
        #expect(
            try await stranger.send("POST", "/v1/task-templates/\(id)/instantiate", json: ["variables": ["name": "x", "team": "y"]]).status == 404)
        #expect(try await stranger.send("DELETE", "/v1/task-templates/\(id)").status == 404)
        #expect(try await caller.send("DELETE", "/v1/task-templates/\(id)").status == 204)
    }

    @Test("values are filled in literally in one pass: a value naming another variable is not expanded")
    func valuesAreLiteral() async throws {
        let caller = try await Caller.fresh()
        let template: [String: Any] = ["name": "Nest", "tasks": [["title": "{{a}}", "description": "{{a}} {{b}}"]]]
        let id = try #require(try await caller.send("POST", "/v1/task-templates", json: template).string("id"))
        let made = try await caller.send("POST", "/v1/task-templates/\(id)/instantiate", json: ["variables": ["a": "{{b}}{{b}}", "b": "{{a}}"]])
        #expect(made.status == 201)
        let root = try #require((made.json["items"] as? [[String: Any]])?.first)
        #expect(root["title"] as? String == "{{b}}{{b}}")
        #expect(root["description"] as? String == "{{b}}{{b}} {{a}}")
    }

    @Test("a filled title or description past the task limits is refused with 422, and nothing is created")
    func filledLimits() async throws {
        let caller = try await Caller.fresh()
        // 300 placeholders of a 500-character value: 150,000 characters once filled.
        let template: [String: Any] = [
            "name": "Blow-up", "tasks": [["title": "{{v}}{{v}}", "description": String(repeating: "{{v}}", count: 300)]],
        ]
        let id = try #require(try await caller.send("POST", "/v1/task-templates", json: template).string("id"))
        let refused = try await caller.send(
            "POST", "/v1/task-templates/\(id)/instantiate", json: ["variables": ["v": String(repeating: "x", count: 500)]])
        #expect(refused.status == 422)
        let fields = (refused.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        #expect(fields.contains("tasks[0].title"))
        #expect(fields.contains("tasks[0].description"))
        #expect(try await caller.send("GET", "/v1/tasks").items.isEmpty)
    }
}
