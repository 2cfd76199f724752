import Foundation
import TestSupport
import Testing

@testable import Campaigns

@Suite("subscribers")
struct SubscriberTests {
    @Test("an address is trimmed and lower-cased, unique in the tenant; attributes come back as sent")
    func created() async throws {
        let marketer = try await Marketer.fresh()
        let answer = try await marketer.send(
            "POST", "/v1/campaigns/subscribers",
            json: ["email": "  Ada.Lovelace@Example.COM ", "name": "Ada", "attributes": ["plan": "pro", "seats": 12, "tags": ["a", "b"]]])
        #expect(answer.status == 201)
        #expect(answer.string("email") == "ada.lovelace@example.com")
        #expect(answer.headers["etag"] == "\"v1\"")
        let attributes = try #require(answer.json["attributes"] as? [String: Any])
        #expect(attributes["plan"] as? String == "pro")
        #expect(attributes["seats"] as? Int == 12)
        #expect(try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "ADA.lovelace@example.com"]).status == 409)
        // Another tenant may have the same address.
        #expect(try await Marketer.fresh().send("POST", "/v1/campaigns/subscribers", json: ["email": "ada.lovelace@example.com"]).status == 201)
    }

    @Test("bad addresses, attributes and bodies are refused with the field named; nothing is stored")
    func refused() async throws {
        let marketer = try await Marketer.fresh()
        for email in [
            "", "no-at-sign", "two@@example.com", "a@b", "a@-b.com", ".a@example.com", "a..b@example.com", "a b@example.com",
            String(repeating: "a", count: 65) + "@example.com", "ä@example.com",
        ] {
            let answer = try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": email])
            #expect(answer.status == 422, "\(email)")
        }
        var deep: Any = "bottom"
        for _ in 0..<7 { deep = ["x": deep] }
        #expect(try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "attributes": deep]).status == 422)
        #expect(
            try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "attributes": ["a.b": 1]]).status == 422)
        let big = String(repeating: "x", count: 17000)
        #expect(
            try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "attributes": ["big": big]]).status == 422)
        #expect(try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "attributes": [1, 2]]).status == 422)
        #expect(try await marketer.send("POST", "/v1/campaigns/subscribers", raw: "{\"email\": ").status == 400)
        #expect(try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "status": "gone"]).status == 422)
        #expect(
            try await marketer.send("POST", "/v1/campaigns/subscribers", json: ["email": "d@example.com", "lists": [UUID().uuidString]]).status == 422
        )
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers").items.isEmpty)
    }

    @Test("list filters by text, status and list; pages by cursor")
    func listed() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Newsletter"])
        _ = try await marketer.subscriber("grace@example.com", name: "Grace Hopper", lists: [list])
        _ = try await marketer.subscriber("alan@example.com", name: "Alan Turing")
        let blocked = try await marketer.subscriber("spam@example.com")
        let read = try await marketer.send("GET", "/v1/campaigns/subscribers/\(blocked)")
        #expect(
            try await marketer.send(
                "PATCH", "/v1/campaigns/subscribers/\(blocked)", json: ["status": "blocklisted"], headers: ["If-Match": read.headers["etag"] ?? ""]
            ).status == 200)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?q=hopper").items.count == 1)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?status=blocklisted").items.count == 1)
        #expect(
            try await marketer.send("GET", "/v1/campaigns/subscribers?listId=\(list)").items.compactMap { $0["email"] as? String } == [
                "grace@example.com"
            ])
        let first = try await marketer.send("GET", "/v1/campaigns/subscribers?limit=2")
        #expect(first.items.count == 2)
        let cursor = try #require(first.string("nextCursor"))
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?limit=2&cursor=\(cursor)").items.count == 1)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?status=maybe").status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?listId=nope").status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers?cursor=@@").status == 400)
    }

    @Test("a change names the version it read; a stale one answers 412 and changes nothing")
    func updated() async throws {
        let marketer = try await Marketer.fresh()
        let id = try await marketer.subscriber("kay@example.com", attributes: ["plan": "free"])
        let changed = try await marketer.send(
            "PATCH", "/v1/campaigns/subscribers/\(id)", json: ["attributes": ["plan": "pro"], "name": "Kay"], headers: ["If-Match": "\"v1\""])
        #expect(changed.status == 200)
        #expect((changed.json["attributes"] as? [String: Any])?["plan"] as? String == "pro")
        #expect(changed.headers["etag"] == "\"v2\"")
        #expect(
            try await marketer.send("PATCH", "/v1/campaigns/subscribers/\(id)", json: ["name": "K"], headers: ["If-Match": "\"v1\""]).status == 412)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/subscribers/\(id)", json: ["email": "not-an-address"]).status == 422)
        _ = try await marketer.subscriber("taken@example.com")
        #expect(try await marketer.send("PATCH", "/v1/campaigns/subscribers/\(id)", json: ["email": "taken@example.com"]).status == 409)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers/\(id)").string("name") == "Kay")
        #expect(try await marketer.send("DELETE", "/v1/campaigns/subscribers/\(id)", headers: ["If-Match": "\"v1\""]).status == 412)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/subscribers/\(id)").status == 204)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers/\(id)").status == 404)
    }

    @Test("another tenant's subscriber answers 404 for every verb; a viewer cannot write")
    func isolated() async throws {
        let owner = try await Marketer.fresh()
        let id = try await owner.subscriber("iso@example.com")
        let stranger = try await Marketer.fresh()
        #expect(try await stranger.send("GET", "/v1/campaigns/subscribers/\(id)").status == 404)
        #expect(try await stranger.send("PATCH", "/v1/campaigns/subscribers/\(id)", json: ["name": "x"]).status == 404)
        #expect(try await stranger.send("DELETE", "/v1/campaigns/subscribers/\(id)").status == 404)
        #expect(try await stranger.send("GET", "/v1/campaigns/subscribers/\(id)/lists").status == 404)
        #expect(try await stranger.send("GET", "/v1/campaigns/subscribers/not-a-uuid").status == 404)
        let viewer = try await Marketer.fresh(roles: ["viewer"], tenant: owner.tenant)
        #expect(try await viewer.send("POST", "/v1/campaigns/subscribers", json: ["email": "v@example.com"]).status == 403)
        #expect(try await viewer.send("GET", "/v1/campaigns/subscribers/\(id)").status == 200)
    }
}
