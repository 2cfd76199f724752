import Contracts
import Foundation
import TestSupport
import Testing

@Suite("interaction events")
struct EventTests {
    func event(_ id: String, item: String = "i1", kind: String = "view", at date: Date = Date(), extra: [String: Any] = [:]) -> [String: Any] {
        ["eventId": id, "itemKey": item, "kind": kind, "occurredAt": stamp(date)].merging(extra) { $1 }
    }

    @Test("a batch is recorded and each event is published on experience.interaction.v1 for the signed-in user")
    func recordedAndPublished() async throws {
        let topic = try TopicReader(topic: Topics.experienceInteraction.name)
        let reader = try await Reader.fresh(roles: ["viewer"])
        try await Reader.fresh(tenant: reader.tenant).item("i1")
        let id = "ev-\(UUID().uuidString)"
        let answer = try await reader.send(
            "POST", "/v1/experience/events", json: ["events": [event(id), event(id + "-p", kind: "progress", extra: ["progress": 40])]])
        #expect(answer.status == 200)
        #expect(answer.json["accepted"] as? Int == 2)
        let message = try #require(
            try await topic.first(timeout: .seconds(30)) {
                $0.headers["ce_type"] == InteractionRecorded.type && $0.value.count > 0
                    && String(decoding: $0.value, as: UTF8.self).contains(id + "-p")
            })
        await topic.close()
        let payload = try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
            .decode(InteractionRecorded.self)
        #expect(payload.userKey == reader.userKey)
        #expect(payload.progress == 40)
        #expect(payload.tenantId == reader.tenant)
    }

    @Test("a replayed event id is counted as a duplicate and recorded once, within a batch and across batches")
    func replayedIds() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("i1")
        let first = try await reader.send("POST", "/v1/experience/events", json: ["events": [event("a"), event("a"), event("b")]])
        #expect(first.json["accepted"] as? Int == 2)
        #expect(first.json["duplicates"] as? Int == 1)
        let again = try await reader.send("POST", "/v1/experience/events", json: ["events": [event("a"), event("b"), event("c")]])
        #expect(again.json["accepted"] as? Int == 1)
        #expect(again.json["duplicates"] as? Int == 2)
    }

    @Test("the same event id in two tenants is two events")
    func idsPerTenant() async throws {
        for _ in 0..<2 {
            let reader = try await Reader.fresh()
            try await reader.item("i1")
            #expect(try await reader.send("POST", "/v1/experience/events", json: ["events": [event("same-id")]]).json["accepted"] as? Int == 1)
        }
    }

    @Test("bad events are refused one by one with their field, the good ones beside them are recorded")
    func badEvents() async throws {
        let reader = try await Reader.fresh()
        try await reader.item("i1")
        let now = Date()
        let events: [[String: Any]] = [
            event("ok"),
            event("future", at: now.addingTimeInterval(3600)),
            event("old", at: now.addingTimeInterval(-8 * 86400)),
            event("kind", kind: "purchase"),
            event("progress-missing", kind: "progress"),
            event("progress-range", kind: "progress", extra: ["progress": 101]),
            event("progress-on-view", extra: ["progress": 10]),
            event("unknown-item", item: "nope"),
            event("someone-else", extra: ["userId": "another-user"]),
            ["itemKey": "i1", "kind": "view", "occurredAt": stamp()],
        ]
        let answer = try await reader.send("POST", "/v1/experience/events", json: ["events": events])
        #expect(answer.status == 200)
        #expect(answer.json["accepted"] as? Int == 1)
        let rejected = answer.json["rejected"] as? [[String: Any]] ?? []
        #expect(
            rejected.compactMap { $0["field"] as? String } == [
                "occurredAt", "occurredAt", "kind", "progress", "progress", "progress", "itemKey", "userId", "eventId",
            ])
        #expect(rejected.compactMap { $0["index"] as? Int } == Array(1...9))
    }

    @Test("another tenant's item key is not an item here: the event is refused")
    func crossTenantItem() async throws {
        let owner = try await Reader.fresh()
        try await owner.item("theirs")
        let other = try await Reader.fresh()
        let answer = try await other.send("POST", "/v1/experience/events", json: ["events": [event("x", item: "theirs")]])
        #expect(answer.json["accepted"] as? Int == 0)
        #expect((answer.json["rejected"] as? [[String: Any]])?.first?["field"] as? String == "itemKey")
    }

    @Test("an empty batch, more than 500 events, a batch of the wrong shape (422) or not JSON (400) is refused whole", arguments: [0, 501])
    func batchSize(count: Int) async throws {
        let reader = try await Reader.fresh()
        let events = (0..<count).map { event("e\($0)") }
        #expect(try await reader.send("POST", "/v1/experience/events", json: ["events": events]).status == 422)
        #expect(try await reader.send("POST", "/v1/experience/events", raw: "{\"events\": 3}").status == 422)
        #expect(try await reader.send("POST", "/v1/experience/events", raw: "{\"events\": [").status == 400)
    }

    @Test("an API client names the user of each event; without one the event is refused")
    func clientNamesUsers() async throws {
        let client = try await Reader.client(scope: "experience:write")
        try await client.item("i1")
        let answer = try await client.send(
            "POST", "/v1/experience/events", json: ["events": [event("c1", extra: ["userId": "reader-7"]), event("c2")]])
        #expect(answer.json["accepted"] as? Int == 1)
        #expect((answer.json["rejected"] as? [[String: Any]])?.first?["field"] as? String == "userId")
        let reading = try await Reader.client(scope: "experience:read", tenant: client.tenant)
        #expect(try await reading.send("POST", "/v1/experience/events", json: ["events": [event("c3", extra: ["userId": "u"])]]).status == 403)
    }
}
