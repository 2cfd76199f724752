import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Experience

@Suite("item counters and their reconciliation")
struct CounterTests {
    func event(_ id: String, item: String, kind: String, at date: Date = Date(), progress: Int? = nil) -> [String: Any] {
        var event: [String: Any] = ["eventId": id, "itemKey": item, "kind": kind, "occurredAt": stamp(date)]
        if let progress { event["progress"] = progress }
        return event
    }

    func counters(_ reader: Reader, _ item: String) async throws -> [String: Any] {
        let answer = try await reader.send("GET", "/v1/experience/items/\(item)/counters")
        #expect(answer.status == 200)
        return answer.json
    }

    func count(_ json: [String: Any], _ window: String, _ counter: String) -> Int? {
        (json[window] as? [String: Any])?[counter] as? Int
    }

    /// A tenant with one item and a known history: 3 views and a click now, 2 views two days
    /// ago, and reading progress (not counted).
    func history() async throws -> Reader {
        let reader = try await Reader.fresh(roles: ["owner"])
        try await reader.item("story")
        let now = Date()
        // Two days ago, a minute apart within one clock hour.
        let earlier = CountBucket.hour(of: now.addingTimeInterval(-2 * 86400)).addingTimeInterval(600)
        let events = [
            event("v1", item: "story", kind: "view"), event("v2", item: "story", kind: "view"), event("v3", item: "story", kind: "view"),
            event("c1", item: "story", kind: "click"), event("p1", item: "story", kind: "progress", progress: 50),
            event("old1", item: "story", kind: "view", at: earlier),
            event("old2", item: "story", kind: "view", at: earlier.addingTimeInterval(60)),
        ]
        let answer = try await reader.send("POST", "/v1/experience/events", json: ["events": events])
        #expect(answer.json["accepted"] as? Int == 7)
        return reader
    }

    @Test("recorded events are counted per window and in total; reading progress is not counted")
    func windows() async throws {
        let reader = try await history()
        let json = try await counters(reader, "story")
        #expect(count(json, "lastDay", "views") == 3)
        #expect(count(json, "lastWeek", "views") == 5)
        #expect(count(json, "allTime", "views") == 5)
        #expect(count(json, "allTime", "clicks") == 1)
        #expect((json["smoothedCTR"] as? Double ?? 0) > 0)
    }

    @Test("a batch sent again is not counted again")
    func replayNotCounted() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("i")
        let batch = ["events": [event("r1", item: "i", kind: "view"), event("r2", item: "i", kind: "save")]]
        _ = try await reader.send("POST", "/v1/experience/events", json: batch)
        _ = try await reader.send("POST", "/v1/experience/events", json: batch)
        let json = try await counters(reader, "i")
        #expect(count(json, "allTime", "views") == 1)
        #expect(count(json, "allTime", "saves") == 1)
    }

    @Test("drift put into the counters is found, reported per counter, and repaired; the next run finds none")
    func driftRepaired() async throws {
        let reader = try await history()
        try await withDatabase("experience") { database in
            _ = try await database.withTenant(reader.tenant) { connection in
                // A bucket over by 7 views, a bucket lost, and a total off by 2 clicks.
                try await connection.query(
                    "UPDATE experience.item_counts SET views = views + 7 WHERE tenant_id = \(reader.tenant) AND hour = (SELECT max(hour) FROM experience.item_counts WHERE tenant_id = \(reader.tenant))",
                    logger: database.logger
                ).collect().count
                    + (try await connection.query(
                        "DELETE FROM experience.item_counts WHERE tenant_id = \(reader.tenant) AND hour = (SELECT min(hour) FROM experience.item_counts WHERE tenant_id = \(reader.tenant))",
                        logger: database.logger
                    ).collect().count)
                    + (try await connection.query(
                        "UPDATE experience.item_totals SET clicks = clicks + 2 WHERE tenant_id = \(reader.tenant)", logger: database.logger
                    ).collect().count)
            }
        }
        #expect(count(try await counters(reader, "story"), "lastWeek", "views") == 10)
        let run = try await reader.send("POST", "/v1/admin/experience/reconciliation", json: ["hours": 96])
        #expect(run.status == 201)
        let drift = run.json["drift"] as? [String: [String: Int]] ?? [:]
        // +7 views in one bucket, -2 views in the lost one; the totals then still held 2 clicks too many.
        #expect(drift["views"]?["difference"] == 5)
        #expect(drift["views"]?["buckets"] == 2)
        #expect(drift["clicks"]?["difference"] == 2)
        #expect(run.json["repaired"] as? Int == 3)
        let json = try await counters(reader, "story")
        #expect(count(json, "allTime", "views") == 5)
        #expect(count(json, "allTime", "clicks") == 1)
        #expect(count(json, "lastWeek", "views") == 5)
        let again = try await reader.send("POST", "/v1/admin/experience/reconciliation", json: ["hours": 96])
        #expect(again.json["repaired"] as? Int == 0)
        let reports = try await reader.send("GET", "/v1/admin/experience/reconciliation")
        #expect((reports.json["items"] as? [Any])?.count == 2)
    }

    @Test("the database refuses a negative count")
    func negativeRefused() async throws {
        let reader = try await history()
        await #expect(throws: (any Error).self) {
            try await withDatabase("experience") { database in
                try await database.withTenant(reader.tenant) { connection in
                    try await connection.query(
                        "UPDATE experience.item_totals SET views = -1 WHERE tenant_id = \(reader.tenant)", logger: database.logger
                    ).collect().count
                }
            }
        }
        #expect(count(try await counters(reader, "story"), "allTime", "views") == 5)
    }

    @Test("reconciliation is for tenant admins, and takes 1 to 4,320 hours", arguments: [0, 4321])
    func reconciliationInput(hours: Int) async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        #expect(try await admin.send("POST", "/v1/admin/experience/reconciliation", json: ["hours": hours]).status == 422)
        #expect(try await admin.send("POST", "/v1/admin/experience/reconciliation", raw: "{\"hours\": \"many\"}").status == 422)
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        #expect(try await member.send("POST", "/v1/admin/experience/reconciliation").status == 403)
        #expect(try await member.send("GET", "/v1/admin/experience/reconciliation").status == 403)
    }

    @Test("another tenant's item has no counters to read here")
    func countersIsolated() async throws {
        let owner = try await history()
        let other = try await Reader.fresh()
        #expect(try await other.send("GET", "/v1/experience/items/story/counters").status == 404)
        _ = owner
    }
}

@Suite("counting rules")
struct CountingRulesTests {
    @Test("a smoothed CTR sits at the prior with no views and moves to the item's own rate as views grow")
    func smoothedCTR() {
        #expect(Popularity.smoothedCTR(clicks: 0, views: 0, prior: 0.1) == 0.1)
        #expect(abs(Popularity.smoothedCTR(clicks: 50, views: 100, prior: 0.1) - (50 + 2) / 120.0) < 1e-9)
        #expect(abs(Popularity.smoothedCTR(clicks: 5000, views: 10000, prior: 0.1) - 0.5) < 0.001)
        // Clicks without views (a client that sends no views) still give a rate of at most 1.
        #expect(Popularity.smoothedCTR(clicks: 30, views: 0, prior: 0.5) <= 1)
    }

    @Test("a batch is summed per item and UTC hour, in key order, without progress")
    func sums() {
        let hour = Date(timeIntervalSince1970: 1_800_000_000 / 3600 * 3600)
        func interaction(_ item: String, _ kind: InteractionKind, _ offset: TimeInterval) -> Interaction {
            Interaction(
                eventId: UUID().uuidString, userKey: "u", itemKey: item, kind: kind, progress: kind == .progress ? 10 : nil, occurredAt: hour + offset
            )
        }
        let sums = CountBucket.sum([
            interaction("b", .view, 10), interaction("a", .view, 20), interaction("a", .click, 3599), interaction("a", .view, 3600),
            interaction("a", .progress, 5),
        ])
        #expect(
            sums.map(\.0) == [
                CountBucket(itemKey: "a", hour: hour), CountBucket(itemKey: "a", hour: hour + 3600), CountBucket(itemKey: "b", hour: hour),
            ])
        #expect(sums[0].1 == Counts(views: 1, clicks: 1))
    }

    @Test("drift is reported per counter: how many buckets, and the sum of their differences")
    func driftReport() {
        let drift = Reconciliation.drift([Counts(views: 3), Counts(views: -1, clicks: 2)])
        #expect(drift["views"] == Reconciliation.Drift(buckets: 2, difference: 2))
        #expect(drift["clicks"] == Reconciliation.Drift(buckets: 1, difference: 2))
        #expect(drift["saves"] == Reconciliation.Drift())
    }
}
