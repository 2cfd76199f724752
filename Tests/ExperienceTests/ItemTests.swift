import Foundation
import TestSupport
import Testing

@Suite("catalogue items")
struct ItemTests {
    @Test("PUT creates an item (201) under the tenant's key, a second PUT replaces it (200) at the next version")
    func putCreatesThenReplaces() async throws {
        let reader = try await Reader.fresh()
        let created = try await reader.item(
            "article-1",
            ["title": "Rates rise", "categories": ["Economy", " economy ", "Markets"], "provider": "Daily Wire", "publishedAt": stamp()])
        #expect(created.status == 201)
        #expect(created.json["categories"] as? [String] == ["economy", "markets"])
        #expect(created.json["version"] as? Int == 1)
        let replaced = try await reader.item("article-1", ["title": "Rates rise again"])
        #expect(replaced.status == 200)
        #expect(replaced.json["version"] as? Int == 2)
        let read = try await reader.send("GET", "/v1/experience/items/article-1")
        #expect(read.json["title"] as? String == "Rates rise again")
        #expect(read.json["provider"] == nil || read.json["provider"] is NSNull)
    }

    @Test("If-Match must name the stored version: a stale one is 412 and changes nothing")
    func staleVersion() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("a", ["title": "First"])
        try await reader.item("a", ["title": "Second"])
        let stale = try await reader.send("PUT", "/v1/experience/items/a", json: ["title": "Third"], headers: ["If-Match": "\"v1\""])
        #expect(stale.status == 412)
        #expect(try await reader.send("GET", "/v1/experience/items/a").json["title"] as? String == "Second")
        let deleteStale = try await reader.send("DELETE", "/v1/experience/items/a", headers: ["If-Match": "\"v1\""])
        #expect(deleteStale.status == 412)
        #expect(try await reader.send("GET", "/v1/experience/items/a").status == 200)
    }

    @Test(
        "bad items are 422 naming the field, and nothing is stored",
        arguments: [
            #"{"title": ""}"#, "{\"title\": \"\(String(repeating: "x", count: 501))\"}", #"{"title": "t", "categories": [""]}"#,
            #"{"title": "t", "status": "deleted"}"#, #"{"title": "t", "key": "another-key"}"#,
            "{\"title\": \"t\", \"categories\": [\((0..<21).map { "\"c\($0)\"" }.joined(separator: ","))]}",
        ])
    func badItems(body: String) async throws {
        let reader = try await Reader.fresh()
        let answer = try await reader.send("PUT", "/v1/experience/items/k", raw: body)
        #expect([400, 422].contains(answer.status))
        #expect(answer.contentType.hasPrefix("application/problem+json"))
        #expect(try await reader.send("GET", "/v1/experience/items/k").status == 404)
    }

    @Test("a malformed body is 400, never a 500")
    func malformedBody() async throws {
        let reader = try await Reader.fresh()
        #expect(try await reader.send("PUT", "/v1/experience/items/k", raw: "{\"title\": ").status == 400)
        #expect(try await reader.send("POST", "/v1/experience/items/bulk", raw: "[1, 2]").status == 400)
    }

    @Test("another tenant's item key is 404 for reading, replacing and deleting, and stays as it was")
    func tenantIsolation() async throws {
        let owner = try await Reader.fresh()
        try await owner.item("shared-key", ["title": "Mine"])
        let other = try await Reader.fresh()
        #expect(try await other.send("GET", "/v1/experience/items/shared-key").status == 404)
        #expect(try await other.send("DELETE", "/v1/experience/items/shared-key").status == 404)
        #expect((try await other.send("GET", "/v1/experience/items").json["items"] as? [Any])?.isEmpty == true)
        // The other tenant's PUT makes an item of its own, under the same key.
        try await other.item("shared-key", ["title": "Theirs"])
        #expect(try await owner.send("GET", "/v1/experience/items/shared-key").json["title"] as? String == "Mine")
    }

    @Test("bulk upsert of many items in one request counts created and updated")
    func bulkUpsert() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("b-0", ["title": "Old"])
        let items = (0..<250).map { ["key": "b-\($0)", "title": "Bulk \($0)", "categories": ["c\($0 % 5)"]] as [String: Any] }
        let answer = try await reader.send("POST", "/v1/experience/items/bulk", json: ["items": items])
        #expect(answer.status == 200)
        #expect(answer.json["created"] as? Int == 249)
        #expect(answer.json["updated"] as? Int == 1)
        let page = try await reader.send("GET", "/v1/experience/items?category=c3&limit=100")
        #expect((page.json["items"] as? [Any])?.count == 50)
    }

    @Test(
        "a bulk request with one bad item or a repeated key stores nothing, and says which",
        arguments: [
            #"[{"key": "x1", "title": "Good"}, {"key": "x2", "title": ""}]"#,
            #"[{"key": "x1", "title": "Good"}, {"key": "x1", "title": "Twice"}]"#,
            #"[{"title": "No key"}]"#,
        ])
    func bulkRefused(items: String) async throws {
        let reader = try await Reader.fresh()
        let answer = try await reader.send("POST", "/v1/experience/items/bulk", raw: "{\"items\": \(items)}")
        #expect(answer.status == 422)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("items["))
        #expect(try await reader.send("GET", "/v1/experience/items/x1").status == 404)
    }

    @Test("more than 1,000 items in one bulk request is 422")
    func bulkTooLarge() async throws {
        let reader = try await Reader.fresh()
        let items = (0..<1001).map { ["key": "k\($0)", "title": "t"] }
        #expect(try await reader.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 422)
    }

    @Test("the list pages newest first without repeats or gaps")
    func paging() async throws {
        let reader = try await Reader.fresh()
        let now = Date()
        for index in 0..<7 {
            try await reader.item("p\(index)", ["title": "P\(index)", "publishedAt": stamp(now.addingTimeInterval(Double(-index) * 60))])
        }
        var keys: [String] = []
        var cursor: String?
        repeat {
            let page = try await reader.send("GET", "/v1/experience/items?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
            keys += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
            cursor = page.json["nextCursor"] as? String
        } while cursor != nil
        #expect(keys == (0..<7).map { "p\($0)" })
    }

    @Test("a viewer reads the catalogue but may not change it")
    func viewerReadsOnly() async throws {
        let owner = try await Reader.fresh()
        try await owner.item("v", ["title": "Seen"])
        let viewer = try await Reader.fresh(roles: ["viewer"], tenant: owner.tenant)
        #expect(try await viewer.send("GET", "/v1/experience/items/v").status == 200)
        #expect(try await viewer.send("PUT", "/v1/experience/items/v", json: ["title": "Changed"]).status == 403)
    }

    @Test("an API client needs experience:write to change the catalogue, experience:read to read it")
    func clientScopes() async throws {
        let reading = try await Reader.client(scope: "experience:read")
        #expect(try await reading.send("GET", "/v1/experience/items").status == 200)
        #expect(try await reading.send("PUT", "/v1/experience/items/x", json: ["title": "t"]).status == 403)
        let writing = try await Reader.client(scope: "experience:write")
        #expect(try await writing.send("PUT", "/v1/experience/items/x", json: ["title": "t"]).status == 201)
        let stranger = try await Reader.client(scope: "tasks:write")
        #expect(try await stranger.send("GET", "/v1/experience/items").status == 403)
    }
}
