import Foundation
import TestSupport
import Testing

@Suite("feed rules: sponsored slots, blocked providers")
struct FeedRulesTests {
    let home = HomeTests()

    func put(_ admin: Reader, _ rules: [String: Any], ifMatch: String? = nil) async throws -> HTTPAnswer {
        try await admin.send("PUT", "/v1/admin/experience/rules", json: rules, headers: ifMatch.map { ["If-Match": $0] } ?? [:])
    }

    @Test("sponsored items take their fixed positions in \"for you\", labelled; one the user dismissed gives way to the next")
    func sponsored() async throws {
        let editor = try await home.catalogue()
        let saved = try await put(editor, ["sponsoredPositions": [4, 0], "sponsoredItems": ["politics-3", "tech-4", "food-0", "sport-0"]])
        #expect(saved.status == 200, "\(saved.json)")
        #expect(saved.json["sponsoredPositions"] as? [Int] == [0, 4])
        #expect(saved.headers["etag"] == "\"v1\"")
        let reader = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        try await home.events(reader, [home.event("sport-1", "like")])
        var forYou = home.section(try await reader.send("GET", "/v1/experience/home"), "for_you")
        #expect(home.keys(forYou).count <= 10)
        #expect(home.keys(forYou).first == "politics-3")
        #expect(forYou.first?["sponsored"] as? Bool == true)
        #expect(forYou.first?["reason"] as? String == "sponsored")
        #expect(home.keys(forYou).dropFirst(4).first == "tech-4")
        #expect(home.keys(forYou).filter { $0 == "politics-3" || $0 == "tech-4" }.count == 2)
        #expect(forYou.filter { $0["sponsored"] as? Bool == true }.count == 2)
        // Dismissed: the next sponsored item (food-0 does not exist, so sport-0) takes the slot.
        try await home.events(reader, [home.event("politics-3", "dismiss")])
        forYou = home.section(try await reader.send("GET", "/v1/experience/home"), "for_you")
        #expect(home.keys(forYou).first == "tech-4")
        #expect(home.keys(forYou).dropFirst(4).first == "sport-0")
        #expect(!home.keys(forYou).contains("politics-3"))
    }

    @Test("a blocked provider's items appear in no section and in no similar list")
    func blockedProvider() async throws {
        let editor = try await home.catalogue()
        let reader = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        let crowd = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        try await home.events(
            crowd, (0..<5).map { _ in home.event("tech-0", "view") } + [home.event("tech-1", "click"), home.event("sport-1", "click")])
        try await home.events(reader, [home.event("tech-1", "progress", progress: 30), home.event("tech-2", "like")])
        let before = try await reader.send("GET", "/v1/experience/home")
        #expect(home.keys(home.section(before, "trending")).contains("tech-0"))
        #expect(try await put(editor, ["blockedProviders": ["tech-desk"]]).status == 200)
        let after = try await reader.send("GET", "/v1/experience/home")
        let sections = after.json["sections"] as? [[String: Any]] ?? []
        #expect(sections.count == 4)
        for section in sections {
            let keys = home.keys(section["items"] as? [[String: Any]] ?? [])
            #expect(!keys.contains { $0.hasPrefix("tech-") }, "\(section["name"] ?? "") \(keys)")
        }
        let similar = try await reader.send("GET", "/v1/experience/items/sport-1/similar")
        #expect(similar.status == 200)
        #expect(!home.keys(similar.json["items"] as? [[String: Any]] ?? []).contains { $0.hasPrefix("tech-") })
    }

    @Test("rules that cannot hold are 422 with the field; a stale If-Match is 412; nothing changes")
    func badRules() async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let bad: [([String: Any], String)] = [
            (["sponsoredPositions": [10], "sponsoredItems": ["a"]], "sponsoredPositions"),
            (["sponsoredPositions": [-1], "sponsoredItems": ["a"]], "sponsoredPositions"),
            (["sponsoredPositions": [1, 1], "sponsoredItems": ["a"]], "sponsoredPositions"),
            (["sponsoredPositions": [0, 1, 2, 3], "sponsoredItems": ["a"]], "sponsoredPositions"),
            (["sponsoredItems": ["a"]], "sponsoredItems"),
            (["sponsoredPositions": [0], "sponsoredItems": ["a", "a"]], "sponsoredItems"),
            (["sponsoredPositions": [0], "sponsoredItems": [String(repeating: "k", count: 300)]], "sponsoredItems[0]"),
            (["blockedProviders": [""]], "blockedProviders[0]"),
        ]
        for (body, field) in bad {
            let answer = try await put(admin, body)
            #expect(answer.status == 422, "\(body)")
            #expect((answer.json["errors"] as? [[String: Any]])?.contains { $0["field"] as? String == field } == true, "\(body) \(answer.json)")
        }
        #expect(try await admin.send("PUT", "/v1/admin/experience/rules", raw: "{\"blockedProviders\": 7}").status == 422)
        #expect(try await admin.send("PUT", "/v1/admin/experience/rules", raw: "{\"blockedProviders\": [").status == 400)
        #expect(try await put(admin, ["blockedProviders": ["x"]]).status == 200)
        #expect(try await put(admin, ["blockedProviders": ["y"]], ifMatch: "\"v7\"").status == 412)
        #expect(try await put(admin, ["blockedProviders": ["y"]], ifMatch: "soon").status == 400)
        let kept = try await admin.send("GET", "/v1/admin/experience/rules")
        #expect(kept.json["blockedProviders"] as? [String] == ["x"])
        #expect(try await put(admin, ["blockedProviders": ["z"]], ifMatch: "\"v1\"").json["version"] as? Int == 2)
    }

    @Test("rules are the tenant admin's, and each tenant's own")
    func access() async throws {
        let admin = try await Reader.fresh(roles: ["owner"])
        #expect(try await put(admin, ["blockedProviders": ["x"]]).status == 200)
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        #expect(try await member.send("GET", "/v1/admin/experience/rules").status == 403)
        #expect(try await put(member, ["blockedProviders": []]).status == 403)
        let stranger = try await Reader.fresh(roles: ["owner"])
        let theirs = try await stranger.send("GET", "/v1/admin/experience/rules")
        #expect(theirs.status == 200)
        #expect(theirs.json["version"] as? Int == 0)
        #expect((theirs.json["blockedProviders"] as? [String])?.isEmpty == true)
    }
}
