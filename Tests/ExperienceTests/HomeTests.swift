import Foundation
import TestSupport
import Testing

@Suite("home feed")
struct HomeTests {
    func section(_ home: HTTPAnswer, _ name: String) -> [[String: Any]] {
        let sections = home.json["sections"] as? [[String: Any]] ?? []
        return sections.first { $0["name"] as? String == name }?["items"] as? [[String: Any]] ?? []
    }

    func keys(_ entries: [[String: Any]]) -> [String] {
        entries.compactMap { ($0["item"] as? [String: Any])?["key"] as? String }
    }

    func events(_ reader: Reader, _ events: [[String: Any]]) async throws {
        let answer = try await reader.send("POST", "/v1/experience/events", json: ["events": events])
        #expect(answer.json["accepted"] as? Int == events.count, "\(answer.json)")
    }

    func event(_ item: String, _ kind: String, progress: Int? = nil, ago: TimeInterval = 60) -> [String: Any] {
        var event: [String: Any] = [
            "eventId": UUID().uuidString, "itemKey": item, "kind": kind, "occurredAt": stamp(Date().addingTimeInterval(-ago)),
        ]
        if let progress { event["progress"] = progress }
        return event
    }

    /// A tenant's catalogue: five items each in sport, politics and tech from three sources,
    /// published over the last hours (sport-0 newest).
    func catalogue() async throws -> Reader {
        let editor = try await Reader.fresh(roles: ["owner"])
        var items: [[String: Any]] = []
        for (index, category) in ["sport", "politics", "tech"].enumerated() {
            for number in 0..<5 {
                items.append([
                    "key": "\(category)-\(number)", "title": "\(category.capitalized) story \(number)", "categories": [category],
                    "provider": "\(category)-desk", "publishedAt": stamp(Date().addingTimeInterval(-Double(number * 3 + index) * 3600)),
                ])
            }
        }
        #expect(try await editor.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 200)
        return editor
    }

    @Test("a reader's home: what they are reading, their category first with the reason, trending, and their sources")
    func readerHome() async throws {
        let editor = try await catalogue()
        let reader = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        try await events(
            reader,
            [
                event("sport-1", "progress", progress: 40, ago: 120), event("sport-2", "like", ago: 300), event("sport-3", "progress", progress: 100),
                event("sport-4", "dismiss"), event("sport-2", "view", ago: 400),
            ])
        // Others make tech-0 the talk of the day.
        let crowd = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        try await events(crowd, (0..<12).map { _ in event("tech-0", "view") } + [event("tech-0", "click"), event("politics-0", "view")])
        let home = try await reader.send("GET", "/v1/experience/home")
        #expect(home.status == 200)
        let reading = section(home, "continue_reading")
        #expect(keys(reading) == ["sport-1"])
        #expect((reading.first?["reason"] as? String)?.contains("40 %") == true)
        let forYou = section(home, "for_you")
        #expect(!keys(forYou).contains("sport-3"), "finished")
        #expect(!keys(forYou).contains("sport-4"), "dismissed")
        #expect(keys(forYou).first?.hasPrefix("sport") == true)
        #expect((forYou.first?["reason"] as? String)?.hasPrefix("because you read \"Sport story") == true)
        #expect(forYou.allSatisfy { $0["score"] is Double })
        #expect(keys(section(home, "trending")).first == "tech-0")
        #expect(section(home, "trending").first?["reason"] as? String == "trending in tech")
        let sources = section(home, "new_from_sources")
        #expect(!sources.isEmpty)
        #expect(sources.allSatisfy { ($0["reason"] as? String) == "new from sport-desk" })
    }

    @Test("a user with no history gets what is popular, by category, and nothing to continue")
    func coldStart() async throws {
        let editor = try await catalogue()
        let newcomer = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        let home = try await newcomer.send("GET", "/v1/experience/home")
        #expect(section(home, "continue_reading").isEmpty)
        let forYou = section(home, "for_you")
        #expect(forYou.count == 10)
        #expect(
            forYou.allSatisfy {
                let reason = $0["reason"] as? String ?? ""
                return reason.hasPrefix("popular in") || reason.hasPrefix("new: ")
            })
        #expect(Set(keys(forYou)).count == forYou.count)
    }

    @Test("a feed holds the tenant's own items only")
    func tenantIsolation() async throws {
        let editor = try await catalogue()
        let stranger = try await Reader.fresh(roles: ["viewer"])
        let home = try await stranger.send("GET", "/v1/experience/home")
        #expect(home.status == 200)
        for name in ["continue_reading", "for_you", "trending", "new_from_sources"] { #expect(section(home, name).isEmpty) }
        _ = editor
    }

    @Test("an API client names the user; a signed-in user may only ask for their own feed")
    func whoseFeed() async throws {
        let client = try await Reader.client(scope: "experience:read")
        #expect(try await client.send("GET", "/v1/experience/home").status == 422)
        #expect(try await client.send("GET", "/v1/experience/home?userId=reader-9").status == 200)
        let user = try await Reader.fresh()
        #expect(try await user.send("GET", "/v1/experience/home?userId=someone-else").status == 422)
        #expect(try await user.send("GET", "/v1/experience/home?userId=\(user.userKey ?? "")").status == 200)
    }

    @Test("the user's time zone is an IANA name; anything else is 422")
    func timeZone() async throws {
        let reader = try await Reader.fresh()
        #expect(try await reader.send("GET", "/v1/experience/home?timeZone=Europe/Berlin").status == 200)
        for bad in ["Mars/Olympus", "CET%2B1", String(repeating: "A/", count: 40)] {
            let answer = try await reader.send("GET", "/v1/experience/home?timeZone=\(bad)")
            #expect(answer.status == 422, "\(bad)")
            #expect((answer.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "timeZone")
        }
    }

    @Test("a deleted item is recommended no more")
    func deletedItem() async throws {
        let editor = try await catalogue()
        let reader = try await Reader.fresh(roles: ["viewer"], tenant: editor.tenant)
        try await events(reader, [event("politics-1", "progress", progress: 30)])
        #expect(keys(section(try await reader.send("GET", "/v1/experience/home"), "continue_reading")) == ["politics-1"])
        #expect(try await editor.send("DELETE", "/v1/experience/items/politics-1").status == 204)
        let home = try await reader.send("GET", "/v1/experience/home")
        for name in ["continue_reading", "for_you", "trending", "new_from_sources"] { #expect(!keys(section(home, name)).contains("politics-1")) }
    }
}
