import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite("similar items")
struct SimilarTests {
    func keys(_ answer: HTTPAnswer) -> [String] {
        (answer.json["items"] as? [[String: Any]] ?? []).compactMap { ($0["item"] as? [String: Any])?["key"] as? String }
    }

    func reasons(_ answer: HTTPAnswer) -> [String] {
        (answer.json["items"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
    }

    @Test("what the item's readers also read comes first, most shared first, then more of its category")
    func coReadFirst() async throws {
        let editor = try await Reader.fresh(roles: ["owner"])
        let items: [[String: Any]] = [
            ["key": "x", "title": "Rates rise", "categories": ["economy"], "publishedAt": stamp()],
            ["key": "y", "title": "Banks react", "categories": ["finance"], "publishedAt": stamp()],
            ["key": "z", "title": "Mortgages", "categories": ["housing"], "publishedAt": stamp()],
            ["key": "w", "title": "Once only", "categories": ["sport"], "publishedAt": stamp()],
            ["key": "e2", "title": "Economy two", "categories": ["economy"], "publishedAt": stamp()],
        ]
        #expect(try await editor.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 200)
        // Three readers read x and y, two of them z too; one read w.
        for (index, extra) in [["y", "z"], ["y", "z"], ["y"], ["w"]].enumerated() {
            let reader = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
            let read = (["x"] + extra).map { ["eventId": "\(index)-\($0)", "itemKey": $0, "kind": "view", "occurredAt": stamp()] }
            _ = try await reader.send("POST", "/v1/experience/events", json: ["events": read])
        }
        let similar = try await editor.send("GET", "/v1/experience/items/x/similar")
        #expect(similar.status == 200)
        #expect(Array(keys(similar).prefix(3)) == ["y", "z", "e2"])
        #expect(!keys(similar).contains("w"), "one reader in common is chance")
        #expect(!keys(similar).contains("x"))
        #expect(reasons(similar).first == "readers of \"Rates rise\" also read this")
        #expect(reasons(similar).last == "more in economy")
    }

    @Test("another tenant's item has no similar items here (404)")
    func tenantIsolation() async throws {
        let owner = try await Reader.fresh()
        try await owner.item("mine")
        let other = try await Reader.fresh()
        #expect(try await other.send("GET", "/v1/experience/items/mine/similar").status == 404)
    }

    @Test("with no readers and no category, an item has an empty list, not an error")
    func nothingToShow() async throws {
        let owner = try await Reader.fresh()
        try await owner.item("lonely")
        let answer = try await owner.send("GET", "/v1/experience/items/lonely/similar")
        #expect(answer.status == 200)
        #expect(keys(answer).isEmpty)
    }

    @Test("scores: the share of the item's readers; a neighbour read by fewer than two is left out")
    func ranking() {
        let now = Date()
        func item(_ key: String, _ categories: [String]) -> Item {
            Item(
                key: key, type: "article", title: key, categories: categories, topics: [], provider: nil, author: nil, publishedAt: now,
                attributes: [:], status: .active, version: 1, createdAt: now, updatedAt: now)
        }
        let ranked = SimilarItems.rank(
            of: item("x", ["a"]), neighbours: [(item("y", ["b"]), 3), (item("z", ["c"]), 1)], readers: 4,
            sameCategories: [item("y", ["a"]), item("v", ["a"])], now: now, halfLifeHours: 24)
        #expect(ranked.map(\.item.key) == ["y", "v"])
        #expect(ranked[0].score == 0.75)
    }
}
