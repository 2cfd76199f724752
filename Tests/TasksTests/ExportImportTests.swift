import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite("task export and import")
struct ExportImportTests {
    @Test("CSV export escapes cells a spreadsheet would run as formulas, and quotes per RFC 4180")
    func csvEscaping() async throws {
        let caller = try await Caller.fresh()
        _ = try await caller.id(["title": "=HYPERLINK(\"http://evil\")", "description": "line one\nline, two"])
        _ = try await caller.id(["title": "@SUM(A1)", "tags": ["-minus", "+plus"]])
        let export = try await caller.send("GET", "/v1/tasks/export?format=csv")
        #expect(export.status == 200)
        #expect(export.headers["content-type"]?.hasPrefix("text/csv") == true)
        let text = String(decoding: export.body, as: UTF8.self)
        #expect(text.hasPrefix("id,title,description,status,priority,tags"))
        #expect(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""))
        #expect(text.contains(",'@SUM(A1),"))
        #expect(text.contains("\"line one\nline, two\""))
        #expect(text.contains("'-minus, +plus"))
        #expect(!text.contains(",=HYPERLINK") && !text.contains(",@SUM"))
        let stranger = try await Caller.fresh()
        let theirs = String(decoding: try await stranger.send("GET", "/v1/tasks/export?format=csv").body, as: UTF8.self)
        #expect(
            theirs
                == "id,title,description,status,priority,tags,dueAt,timeZone,projectId,parentId,assigneeId,estimateMinutes,remindAt,createdAt,completedAt\r\n"
        )
    }

    @Test("a JSON export imported into another tenant recreates the tasks with their subtasks")
    func jsonRoundTrip() async throws {
        let source = try await Caller.fresh()
        let parent = try await source.id(["title": "Plan trip", "priority": 3, "tags": ["travel"]])
        _ = try await source.id(["title": "Book hotel", "parentId": parent, "dueAt": "2026-12-01T10:00:00Z"])
        let export = try await source.send("GET", "/v1/tasks/export?format=json")
        #expect(export.status == 200)
        let target = try await Caller.fresh()
        let imported = try await target.send(
            "POST", "/v1/tasks/import", raw: String(decoding: export.body, as: UTF8.self), headers: ["Content-Type": "application/json"])
        #expect(imported.status == 201)
        #expect(imported.json["created"] as? Int == 2)
        let tasks = try await target.send("GET", "/v1/tasks?sort=createdAt")
        #expect(tasks.titles == ["Plan trip", "Book hotel"])
        let newParent = try #require(tasks.items.first?["id"] as? String)
        #expect(tasks.items.last?["parentId"] as? String == newParent)
        #expect(tasks.items.first?["priority"] as? Int == 3)
    }

    @Test("our CSV export imports back, formula guards undone")
    func csvRoundTrip() async throws {
        let source = try await Caller.fresh()
        _ = try await source.id(["title": "=1+1 is two", "description": "a, \"quoted\"\nnote"])
        let csv = String(decoding: try await source.send("GET", "/v1/tasks/export?format=csv").body, as: UTF8.self)
        let target = try await Caller.fresh()
        let imported = try await target.send("POST", "/v1/tasks/import", raw: csv, headers: ["Content-Type": "text/csv"])
        #expect(imported.status == 201)
        let task = try #require(try await target.send("GET", "/v1/tasks").items.first)
        #expect(task["title"] as? String == "=1+1 is two")
        #expect(task["description"] as? String == "a, \"quoted\"\nnote")
    }

    static let mixed = """
        title,priority,dueAt,tags
        Good one,2,2026-12-01T10:00:00Z,home
        Bad priority,9,,
        Bad date,1,next week,
        Another good one,0,,
        """

    @Test("mixed good and bad rows: all-or-nothing creates none and names every bad line; best-effort creates the good ones")
    func mixedRows() async throws {
        let caller = try await Caller.fresh()
        let strict = try await caller.send("POST", "/v1/tasks/import", raw: Self.mixed, headers: ["Content-Type": "text/csv"])
        #expect(strict.status == 422)
        let errors = try #require(strict.json["errors"] as? [[String: Any]])
        #expect(Set(errors.compactMap { $0["line"] as? Int }) == [3, 4])
        #expect(errors.contains { $0["field"] as? String == "priority" })
        #expect(try await caller.send("GET", "/v1/tasks").items.isEmpty)
        let lenient = try await caller.send("POST", "/v1/tasks/import?mode=best-effort", raw: Self.mixed, headers: ["Content-Type": "text/csv"])
        #expect(lenient.status == 201)
        #expect(lenient.json["created"] as? Int == 2)
        #expect((lenient.json["errors"] as? [[String: Any]])?.count == 2)
        #expect(Set(try await caller.send("GET", "/v1/tasks").titles) == ["Good one", "Another good one"])
    }

    @Test("a Todoist CSV export maps content, priority, indent and ISO dates; other dates are warned about")
    func todoist() async throws {
        let caller = try await Caller.fresh()
        let csv = """
            TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT
            section,Errands,,,,,,,,,,
            task,Buy milk,Semi-skimmed,4,1,Ann (1),,2026-12-01,en,Europe/London,15,minute
            task,Check the date,,1,2,Ann (1),,every monday,en,,,
            note,A comment,,,,,,,,,,
            task,Call mum,,2,1,Ann (1),,,en,,,
            """
        let imported = try await caller.send("POST", "/v1/tasks/import", raw: csv, headers: ["Content-Type": "text/csv"])
        #expect(imported.status == 201)
        #expect(imported.json["created"] as? Int == 3)
        #expect((imported.json["warnings"] as? [[String: Any]])?.first?["line"] as? Int == 4)
        let tasks = try await caller.send("GET", "/v1/tasks?sort=createdAt")
        #expect(tasks.titles == ["Buy milk", "Check the date", "Call mum"])
        let milk = try #require(tasks.items.first)
        #expect(milk["priority"] as? Int == 4)
        #expect(milk["estimateMinutes"] as? Int == 15)
        #expect(milk["timeZone"] as? String == "Europe/London")
        #expect(milk["dueAt"] as? String == "2026-12-01T00:00:00Z")
        #expect(tasks.items[1]["parentId"] as? String == milk["id"] as? String)
        #expect(tasks.items[2]["priority"] as? Int == 2)
    }

    @Test("a retried import with the same Idempotency-Key creates nothing more and answers as the first time")
    func idempotent() async throws {
        let caller = try await Caller.fresh()
        let key = UUID().uuidString
        let body = "title\nOnce only\n"
        let first = try await caller.send("POST", "/v1/tasks/import", raw: body, headers: ["Content-Type": "text/csv", "Idempotency-Key": key])
        let second = try await caller.send("POST", "/v1/tasks/import", raw: body, headers: ["Content-Type": "text/csv", "Idempotency-Key": key])
        #expect(first.status == 201)
        #expect(second.status == 201)
        #expect(first.string("id") == second.string("id"))
        #expect(try await caller.send("GET", "/v1/tasks").items.count == 1)
    }

    @Test("an import over 1,000 rows runs as a job behind a status resource")
    func largeImport() async throws {
        let caller = try await Caller.fresh()
        let body = "title,priority\n" + (1...1001).map { "Row \($0),\($0 % 5)" }.joined(separator: "\n")
        let accepted = try await caller.send("POST", "/v1/tasks/import", raw: body, headers: ["Content-Type": "text/csv"])
        #expect(accepted.status == 202)
        let location = try #require(accepted.headers["location"])
        #expect(accepted.string("status") == "running")
        // Under the whole suite's load on two cores the job takes a while: the wait is long.
        let done = try await eventually(timeout: .seconds(120)) { try await caller.send("GET", location).string("status") == "succeeded" }
        #expect(done)
        #expect(try await caller.send("GET", location).json["created"] as? Int == 1001)
        let stranger = try await Caller.fresh()
        #expect(try await stranger.send("GET", location).status == 404)
    }

    @Test("a streamed export holds every one of thousands of tasks, in chunks")
    func largeExport() async throws {
        let caller = try await Caller.fresh()
        _ = try await withDatabase("tasks") { database in
            try await database.withTenant(caller.tenant) { connection in
                try await connection.query(
                    """
                    INSERT INTO tasks.tasks (id, tenant_id, title, status, priority, tags)
                    SELECT gen_random_uuid(), \(caller.tenant), 'Bulk ' || n, 'todo', 0, '{}' FROM generate_series(1, 5000) n
                    """, logger: database.logger)
            }
        }
        let export = try await caller.send("GET", "/v1/tasks/export?format=csv")
        #expect(export.status == 200)
        #expect(export.headers["content-length"] == nil)
        let lines = String(decoding: export.body, as: UTF8.self).split(separator: "\r\n")
        #expect(lines.count == 5001)
        let json = try await caller.send("GET", "/v1/tasks/export?format=json")
        #expect(((try JSONSerialization.jsonObject(with: json.body)) as? [Any])?.count == 5000)
    }

    @Test("bad imports: unknown format, unknown mode, no rows, malformed CSV or JSON")
    func badInput() async throws {
        let caller = try await Caller.fresh()
        #expect(try await caller.send("POST", "/v1/tasks/import", raw: "x", headers: ["Content-Type": "text/plain"]).status == 415)
        #expect(try await caller.send("POST", "/v1/tasks/import?mode=yolo", raw: "title\nx", headers: ["Content-Type": "text/csv"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks/import", raw: "title\n", headers: ["Content-Type": "text/csv"]).status == 422)
        #expect(try await caller.send("POST", "/v1/tasks/import", raw: "title\n\"open", headers: ["Content-Type": "text/csv"]).status == 422)
        #expect(
            try await caller.send("POST", "/v1/tasks/import", raw: "{\"not\": \"an array\"}", headers: ["Content-Type": "application/json"]).status
                == 422)
        #expect(try await caller.send("POST", "/v1/tasks/import", raw: "name\nx", headers: ["Content-Type": "text/csv"]).status == 422)
        #expect(try await caller.send("GET", "/v1/tasks/export?format=xml").status == 422)
        #expect(try await caller.send("GET", "/v1/tasks/imports/\(UUID())").status == 404)
        #expect(try await caller.send("GET", "/v1/tasks").items.isEmpty)
    }
}
