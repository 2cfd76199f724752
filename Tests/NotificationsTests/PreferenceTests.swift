import Foundation
import TestSupport
import Testing

@testable import Notifications

@Suite("preferences and quiet hours")
struct PreferenceTests {
    @Test("a user without saved preferences has the standard ones, and saved ones read back")
    func roundTrip() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let standard = try await call("GET", "/v1/notifications/preferences", tenant: tenant, user: user)
        #expect(standard.status == 200)
        #expect(standard.string("timeZone") == "UTC")
        #expect(standard.string("digestTime") == "08:00")
        let saved: [String: Any] = [
            "timeZone": "Europe/Paris", "quietHours": ["start": "22:00", "end": "07:30"], "digestTime": "09:15",
            "channels": ["tasks": ["email": false]],
        ]
        #expect(try await call("PUT", "/v1/notifications/preferences", tenant: tenant, user: user, json: saved).status == 200)
        let read = try await call("GET", "/v1/notifications/preferences", tenant: tenant, user: user)
        #expect(read.string("timeZone") == "Europe/Paris")
        #expect((read.json["quietHours"] as? [String: String]) == ["start": "22:00", "end": "07:30"])
        #expect((read.json["channels"] as? [String: [String: Bool]]) == ["tasks": ["email": false]])
        // Another user of the tenant is untouched.
        #expect(try await call("GET", "/v1/notifications/preferences", tenant: tenant, user: .v7()).string("timeZone") == "UTC")
    }

    @Test("invalid preferences are refused with the fields named, and transactional mail cannot be turned off")
    func invalid() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let bad: [String: Any] = [
            "timeZone": "Mars/Olympus", "quietHours": ["start": "25:00", "end": "07:00"], "digestTime": "8am",
            "channels": ["security": ["email": false], "tasks": ["pigeon": true]],
        ]
        let answer = try await call("PUT", "/v1/notifications/preferences", tenant: tenant, user: user, json: bad)
        #expect(answer.status == 422)
        let fields = Set((answer.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["timeZone", "quietHours.start", "digestTime", "channels.security", "channels.tasks"])
        #expect(try await call("PUT", "/v1/notifications/preferences", tenant: tenant, user: user, json: ["timeZone": "UTC"]).status == 422)
        #expect(try await call("GET", "/v1/notifications/preferences", tenant: tenant, user: user).string("timeZone") == "UTC")
    }

    @Test("an opted-out channel is suppressed while the inbox still receives")
    func optOut() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let key = "optout-\(UUID().uuidString)"
        try await addMember(tenant: tenant, user: user, email: "optout@example.com")
        let prefs: [String: Any] = ["timeZone": "UTC", "digestTime": "08:00", "channels": ["tasks": ["email": false]]]
        #expect(try await call("PUT", "/v1/notifications/preferences", tenant: tenant, user: user, json: prefs).status == 200)
        try await accept(request(tenant: tenant, user: user, key: key))
        #expect(try await emailDelivery(tenant: tenant, key: key)?.0 == "suppressed")
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).count == 1)
    }

    @Test("inside quiet hours a normal notification is deferred to the window's end; an urgent one goes now; the inbox always receives")
    func quietHours() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        try await addMember(tenant: tenant, user: user, email: "quiet-\(UUID().uuidString.prefix(8))@example.com")
        // A window that holds the present whatever the time: from a minute ago to a minute ago.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo") ?? .gmt
        let now = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(-60))
        let start = QuietHours.clock((now.hour ?? 0) * 60 + (now.minute ?? 0))
        let end = QuietHours.clock(((now.hour ?? 0) * 60 + (now.minute ?? 0) + 1439) % 1440)
        let prefs: [String: Any] = ["timeZone": "Asia/Tokyo", "quietHours": ["start": start, "end": end], "digestTime": "08:00", "channels": [:]]
        #expect(try await call("PUT", "/v1/notifications/preferences", tenant: tenant, user: user, json: prefs).status == 200)

        let deferred = "quiet-\(UUID().uuidString)"
        let urgent = "urgent-\(UUID().uuidString)"
        try await accept(request(tenant: tenant, user: user, key: deferred), request(tenant: tenant, user: user, priority: .urgent, key: urgent))
        #expect(try await emailDelivery(tenant: tenant, key: deferred)?.0 == "deferred")
        #expect(try await eventually { try await emailDelivery(tenant: tenant, key: urgent)?.0 == "sent" })
        #expect(inboxTitles(try await call("GET", "/v1/notifications", tenant: tenant, user: user)).count == 2)
    }

    @Test("quiet hours that wrap midnight hold late evening and early morning, and end at the window's end in the user's zone")
    func wrappingWindow() throws {
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        let window = QuietHours(start: 22 * 60, end: 7 * 60, timeZone: zone)
        let formatter = ISO8601DateFormatter()
        // 23:30 and 06:00 in New York (UTC-5 in January) are quiet; noon is not.
        let late = try #require(formatter.date(from: "2026-01-15T04:30:00Z"))
        let early = try #require(formatter.date(from: "2026-01-15T11:00:00Z"))
        let noon = try #require(formatter.date(from: "2026-01-15T17:00:00Z"))
        #expect(window.deferral(at: late) == formatter.date(from: "2026-01-15T12:00:00Z"))
        #expect(window.deferral(at: early) == formatter.date(from: "2026-01-15T12:00:00Z"))
        #expect(window.deferral(at: noon) == nil)
    }
}
