import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Experience

@Suite("digest schedule")
struct DigestScheduleTests {
    func utc(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
    func zone(_ name: String) throws -> TimeZone { try #require(TimeZone(identifier: name)) }

    @Test("the next send is the chosen local time on the next day that has it, in the user's zone")
    func nextSend() throws {
        let berlin = try zone("Europe/Berlin")
        #expect(DigestSchedule.next(after: try utc("2026-12-07T05:00:00Z"), hour: 7, minute: 30, in: berlin) == (try utc("2026-12-07T06:30:00Z")))
        #expect(DigestSchedule.next(after: try utc("2026-12-07T06:30:00Z"), hour: 7, minute: 30, in: berlin) == (try utc("2026-12-08T06:30:00Z")))
        let kolkata = try zone("Asia/Kolkata")
        #expect(DigestSchedule.next(after: try utc("2026-12-07T00:00:00Z"), hour: 7, minute: 30, in: kolkata) == (try utc("2026-12-07T02:00:00Z")))
    }

    @Test("a half-hour zone across daylight saving: Newfoundland's 07:30 moves from 11:00 to 10:00 UTC the day clocks go forward")
    func halfHourZoneAcrossDST() throws {
        let newfoundland = try zone("America/St_Johns")
        #expect(
            DigestSchedule.next(after: try utc("2027-03-12T12:00:00Z"), hour: 7, minute: 30, in: newfoundland) == (try utc("2027-03-13T11:00:00Z")))
        #expect(
            DigestSchedule.next(after: try utc("2027-03-13T12:00:00Z"), hour: 7, minute: 30, in: newfoundland) == (try utc("2027-03-14T10:00:00Z")))
        // Back in November: 07:30 is 11:00 UTC again.
        #expect(
            DigestSchedule.next(after: try utc("2027-11-07T00:00:00Z"), hour: 7, minute: 30, in: newfoundland) == (try utc("2027-11-07T11:00:00Z")))
    }

    @Test("a time the clocks skip is sent when the clocks land; a time that happens twice is sent the first time only")
    func gapsAndRepeats() throws {
        let newfoundland = try zone("America/St_Johns")
        // 14 March 2027: 02:00 NST becomes 03:00 NDT (05:30 UTC); 02:30 never happens.
        let skipped = try #require(DigestSchedule.next(after: try utc("2027-03-13T12:00:00Z"), hour: 2, minute: 30, in: newfoundland))
        #expect(skipped == (try utc("2027-03-14T05:30:00Z")))
        #expect(DigestSchedule.localDate(of: skipped, in: newfoundland) == "2027-03-14")
        // 7 November 2027: 01:30 happens at 04:00 UTC (NDT) and again at 05:00 UTC (NST).
        let twice = try #require(DigestSchedule.next(after: try utc("2027-11-06T12:00:00Z"), hour: 1, minute: 30, in: newfoundland))
        #expect(twice == (try utc("2027-11-07T04:00:00Z")))
        #expect(DigestSchedule.next(after: twice, hour: 1, minute: 30, in: newfoundland) == (try utc("2027-11-08T05:00:00Z")))
        let berlin = try zone("Europe/Berlin")
        #expect(DigestSchedule.next(after: try utc("2027-10-30T12:00:00Z"), hour: 2, minute: 30, in: berlin) == (try utc("2027-10-31T00:30:00Z")))
        #expect(DigestSchedule.next(after: try utc("2027-03-27T12:00:00Z"), hour: 2, minute: 30, in: berlin) == (try utc("2027-03-28T01:00:00Z")))
    }

    @Test("local times are HH:MM on a 24-hour clock")
    func localTimes() {
        #expect(DigestSchedule.localTime("07:30")! == (7, 30))
        #expect(DigestSchedule.localTime("23:59")! == (23, 59))
        for bad in ["7:30", "24:00", "07:60", "0730", "07:30:00", "", "ab:cd", "-1:30"] { #expect(DigestSchedule.localTime(bad) == nil, "\(bad)") }
    }
}

@Suite("digest assembly")
struct DigestAssemblyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func item(_ key: String, _ category: String, topics: [String] = [], source: String? = nil, hoursAgo: Double = 1) -> Item {
        var attributes: [String: JSONValue] = [:]
        if let source { attributes["source"] = .string(source) }
        return Item(
            key: key, type: "article", title: key, categories: [category], topics: topics, provider: nil, author: nil,
            publishedAt: now.addingTimeInterval(-hoursAgo * 3600), attributes: attributes, status: .active, version: 1, createdAt: now, updatedAt: now
        )
    }

    @Test("one article per story (its most relevant), followed sources first, muted topics out, grouped by topic")
    func pick() {
        var profile = UserProfile()
        profile.categories = ["energy": 3, "sport": 1]
        let candidates: [(item: Item, cluster: String?)] = [
            (item("energy-copy", "energy", hoursAgo: 5), "story-1"), (item("energy-original", "energy", source: "mine"), "story-1"),
            (item("sport-1", "sport"), nil), (item("crime-1", "crime", topics: ["crime"]), nil),
            (item("other-followed", "misc", source: "mine"), nil), (item("other", "misc"), nil),
        ]
        let articles = DigestAssembly.pick(candidates, profile: profile, followed: ["mine": 1], muted: ["crime"], maxItems: 3, now: now)
        let keys = articles.map(\.key)
        #expect(keys.count == 3)
        #expect(keys.contains("energy-original") && !keys.contains("energy-copy"))
        #expect(!keys.contains("crime-1"))
        #expect(keys.contains("other-followed") && !keys.contains("other"))
        // Grouped: each topic's articles together.
        let topics = articles.map(\.topic)
        #expect(
            topics == topics.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.flatMap { topic in topics.filter { $0 == topic } })
        #expect(DigestAssembly.text(articles).hasPrefix(articles[0].topic.uppercased()))
    }
}

@Suite("digest preferences")
struct DigestPreferenceTests {
    @Test("a user sets their digest; the answer says when it is due next, in their zone")
    func setAndRead() async throws {
        let reader = try await Reader.fresh(roles: ["viewer"])
        let unset = try await reader.send("GET", "/v1/experience/digest/preferences")
        #expect(unset.status == 200)
        #expect(unset.json["enabled"] as? Bool == false)
        #expect(unset.json["version"] as? Int == 0)
        let saved = try await reader.send(
            "PUT", "/v1/experience/digest/preferences",
            json: ["enabled": true, "localTime": "06:45", "timeZone": "Asia/Kolkata", "maxItems": 12, "mutedTopics": ["Sport", "sport", "Crime"]])
        #expect(saved.status == 200, "\(saved.json)")
        #expect(saved.json["mutedTopics"] as? [String] == ["sport", "crime"])
        #expect(saved.headers["etag"] == "\"v1\"")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let raw = saved.json["nextSendAt"] as? String ?? ""
        let next = try #require(formatter.date(from: raw) ?? ISO8601DateFormatter().date(from: raw))
        #expect(next > Date() && next <= Date().addingTimeInterval(86400))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Asia/Kolkata"))
        #expect(calendar.component(.hour, from: next) == 6 && calendar.component(.minute, from: next) == 45)
        let off = try await reader.send("PUT", "/v1/experience/digest/preferences", json: ["enabled": false], headers: ["If-Match": "\"v1\""])
        #expect(off.json["nextSendAt"] == nil)
        #expect(off.json["version"] as? Int == 2)
        #expect(
            try await reader.send("PUT", "/v1/experience/digest/preferences", json: ["enabled": true], headers: ["If-Match": "\"v1\""]).status == 412)
    }

    @Test("impossible preferences are 422 naming the field, and nothing changes")
    func bad() async throws {
        let reader = try await Reader.fresh()
        let cases: [([String: Any], String)] = [
            (["localTime": "7:30"], "localTime"), (["localTime": "25:00"], "localTime"), (["timeZone": "Mars/Base"], "timeZone"),
            (["timeZone": "EST5EDT+"], "timeZone"), (["maxItems": 0], "maxItems"), (["maxItems": 51], "maxItems"),
            (["mutedTopics": [""]], "mutedTopics"),
        ]
        for (body, field) in cases {
            let answer = try await reader.send("PUT", "/v1/experience/digest/preferences", json: body.merging(["enabled": true]) { $1 })
            #expect(answer.status == 422, "\(body)")
            #expect((answer.json["errors"] as? [[String: Any]])?.contains { $0["field"] as? String == field } == true, "\(body)")
        }
        #expect(try await reader.send("PUT", "/v1/experience/digest/preferences", raw: "{\"enabled\": ").status == 400)
        #expect(try await reader.send("GET", "/v1/experience/digest/preferences").json["version"] as? Int == 0)
    }

    @Test("an API client names the user; a user's preferences are theirs and their tenant's")
    func whose() async throws {
        let client = try await Reader.client(scope: "experience:write experience:read")
        #expect(try await client.send("GET", "/v1/experience/digest/preferences").status == 422)
        #expect(try await client.send("PUT", "/v1/experience/digest/preferences?userId=u-1", json: ["enabled": true]).status == 200)
        #expect(try await client.send("GET", "/v1/experience/digest/preferences?userId=u-1").json["enabled"] as? Bool == true)
        let otherTenant = try await Reader.client(scope: "experience:read")
        #expect(try await otherTenant.send("GET", "/v1/experience/digest/preferences?userId=u-1").json["version"] as? Int == 0)
        let user = try await Reader.fresh(tenant: client.tenant)
        #expect(try await user.send("GET", "/v1/experience/digest/preferences?userId=u-1").status == 422)
    }
}
