import Foundation
import NIOCore
import TestSupport
import Testing

@testable import Experience

@Suite("home feed cache")
struct HomeCacheTests {
    func continueReading(_ home: HTTPAnswer) -> [String] {
        let sections = home.json["sections"] as? [[String: Any]] ?? []
        let items = sections.first { $0["name"] as? String == "continue_reading" }?["items"] as? [[String: Any]] ?? []
        return items.compactMap { ($0["item"] as? [String: Any])?["key"] as? String }
    }

    func read(_ reader: Reader, _ item: String, on url: String? = nil) async throws {
        let body: [String: Any] = [
            "events": [["eventId": UUID().uuidString, "itemKey": item, "kind": "progress", "progress": 30, "occurredAt": stamp()]]
        ]
        let answer = try await TestHTTP.send("POST", (url ?? reader.url) + "/v1/experience/events", json: body, token: reader.token)
        #expect(answer.json["accepted"] as? Int == 1)
    }

    @Test("a second request is served from the cache; the user's own interaction drops it")
    func ownInteraction() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("a")
        try await reader.item("b")
        try await read(reader, "a")
        let first = try await reader.send("GET", "/v1/experience/home")
        #expect(first.headers["cache-status"]?.contains("miss") == true)
        let second = try await reader.send("GET", "/v1/experience/home")
        #expect(second.headers["cache-status"] == "experience; hit")
        try await read(reader, "b")
        let third = try await reader.send("GET", "/v1/experience/home")
        #expect(third.headers["cache-status"]?.contains("miss") == true)
        #expect(Set(continueReading(third)) == ["a", "b"])
    }

    @Test("an item deleted while a feed holding it is cached is gone from the next one")
    func deletedWhileCached() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("soon-gone")
        try await read(reader, "soon-gone")
        _ = try await reader.send("GET", "/v1/experience/home")
        #expect(continueReading(try await reader.send("GET", "/v1/experience/home")) == ["soon-gone"])
        #expect(try await reader.send("DELETE", "/v1/experience/items/soon-gone").status == 204)
        let after = try await reader.send("GET", "/v1/experience/home")
        #expect(after.headers["cache-status"]?.contains("miss") == true)
        #expect(continueReading(after).isEmpty)
    }

    @Test("an interaction recorded by another replica drops this replica's cached feed (through the topic)")
    func acrossReplicas() async throws {
        let other = try await ExperienceServer.replica.value()
        let owner = try await Reader.fresh(roles: ["owner"])
        try await owner.item("x")
        try await owner.item("y")
        // The replica's consumer starts at the newest event once it has joined its group:
        // until then an event may pass it by. A fresh user per try, until one is dropped.
        let deadline = ContinuousClock.now + .seconds(60)
        var dropped = false
        while !dropped, ContinuousClock.now < deadline {
            let reader = try await Reader.fresh(tenant: owner.tenant)
            try await read(reader, "x")
            let url = other + "/v1/experience/home"
            _ = try await TestHTTP.send("GET", url, token: reader.token)
            // The "x" event may reach the replica between the two reads and drop what the
            // first cached (seen in a busy run): then this try proves nothing; the next one.
            guard try await TestHTTP.send("GET", url, token: reader.token).headers["cache-status"] == "experience; hit" else { continue }
            try await read(reader, "y")  // recorded by the first replica
            dropped = try await eventually(timeout: .seconds(5)) {
                Set(continueReading(try await TestHTTP.send("GET", url, token: reader.token))) == ["x", "y"]
            }
        }
        #expect(dropped)
    }

    @Test("a feed built while the catalogue changed is not kept; the cache empties itself when full")
    func generationsAndCapacity() {
        let cache = HomeCache(capacity: 2)
        let tenant = UUID()
        let feed = ByteBuffer(string: "{}")
        let before = cache.generation(of: tenant)
        cache.forget(tenant: tenant)
        cache.store(feed, tenant: tenant, user: "u", generation: before)
        #expect(cache.feed(tenant: tenant, user: "u") == nil)
        let now = cache.generation(of: tenant)
        for user in ["a", "b", "c"] { cache.store(feed, tenant: tenant, user: user, generation: now) }
        #expect(cache.count <= 2)
        #expect(cache.feed(tenant: tenant, user: "c") == feed)
    }
}
