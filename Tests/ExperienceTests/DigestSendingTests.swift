import Contracts
import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite("daily digests: claimed once per user and day, assembled, handed to notifications")
struct DigestSendingTests {
    static func date(_ raw: Any?) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (raw as? String).flatMap { formatter.date(from: $0) ?? ISO8601DateFormatter().date(from: $0) }
    }

    @Test("the tests' late-morning zone exists at every hour of the day, and it is late morning there (it did not at 23:00 UTC)")
    func lateMorningAllDay() throws {
        let midnight = try #require(Calendar(identifier: .gregorian).dateInterval(of: .day, for: Date())?.start)
        for hour in 0..<24 {
            let now = midnight.addingTimeInterval(Double(hour) * 3600 + 1800)
            let zone = try #require(TimeZone(identifier: lateMorningZone(now: now)), "\(hour):30 UTC")
            let local = Calendar(identifier: .gregorian).dateComponents(in: zone, from: now).hour ?? -1
            #expect((10...11).contains(local), "\(hour):30 UTC is \(local):30 in \(zone.identifier)")
        }
    }

    /// Sets the reader's digest a few minutes ahead in a late-morning zone; its next send.
    func subscribe(_ reader: Reader, muted: [String] = [], maxItems: Int = 10, minutesAhead: Int = 3) async throws -> Date {
        let zoneName = lateMorningZone()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: zoneName))
        let at = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(Double(minutesAhead) * 60))
        let saved = try await reader.send(
            "PUT", "/v1/experience/digest/preferences",
            json: [
                "enabled": true, "localTime": String(format: "%02d:%02d", at.hour ?? 0, at.minute ?? 0), "timeZone": zoneName, "maxItems": maxItems,
                "mutedTopics": muted,
            ])
        #expect(saved.status == 200, "\(saved.json)")
        return try #require(Self.date(saved.json["nextSendAt"]))
    }

    func digest(_ reader: Reader, _ id: UUID, until state: String) async throws -> [String: Any]? {
        for _ in 0..<100 {
            let json = try await reader.send("GET", "/v1/experience/digests/\(id.uuidString.lowercased())").json
            if json["state"] as? String == state { return json }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test(
        "two dispatchers at once claim a user's digest once; it holds the new articles, muted topics out, grouped by topic; the email request goes out"
    )
    func claimedOnceAndSent() async throws {
        let topic = try TopicReader(topic: Topics.notificationsRequest.name)
        let reader = try await Reader.fresh(roles: ["member"])
        let published = stamp(Date().addingTimeInterval(-3600))
        let items: [[String: Any]] = [
            [
                "key": "a1", "title": "Tidal power opens", "categories": ["energy"], "publishedAt": published,
                "attributes": ["url": "https://n.example/a1"],
            ],
            ["key": "a2", "title": "Solar record", "categories": ["energy"], "publishedAt": published],
            ["key": "b1", "title": "Late equaliser", "categories": ["sport"], "publishedAt": published],
            ["key": "c1", "title": "Crime report", "categories": ["crime"], "publishedAt": published],
            ["key": "old", "title": "Last week", "categories": ["energy"], "publishedAt": stamp(Date().addingTimeInterval(-5 * 86400))],
        ]
        #expect(try await reader.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 200)
        let scheduled = try await subscribe(reader, muted: ["crime"])
        let now = scheduled.addingTimeInterval(60)
        try await withDatabase("experience") { database in
            let store = DigestStore(database: database)
            // a1 and a2 tell one story: the digest keeps one of them.
            try await StoryClusterStore(database: database).assign(
                [("a1", "tidal power station opens in the harbour city today"), ("a2", "tidal power station opens in the harbour city today")],
                tenant: reader.tenant)
            let user = try #require(reader.userKey)
            async let first = store.claim(user: user, tenant: reader.tenant, now: now)
            async let second = store.claim(user: user, tenant: reader.tenant, now: now)
            let claims = [try await first, try await second]
            let claimed = claims.compactMap { claim -> UUID? in
                if case .claimed(let id) = claim { return id }
                return nil
            }
            #expect(claimed.count == 1, "\(claims)")
            let id = try #require(claimed.first)
            #expect(try await store.claim(user: user, tenant: reader.tenant, now: now) == .notDue)
            // The user moves their time later today: that send finds today's digest claimed already.
            let later = try await subscribe(reader, muted: ["crime"], minutesAhead: 10)
            #expect(try await store.claim(user: user, tenant: reader.tenant, now: later.addingTimeInterval(60)) == .alreadyClaimed)
            let sent = try #require(try await digest(reader, id, until: "sent"))
            let articles = sent["articles"] as? [[String: Any]] ?? []
            let keys = articles.compactMap { $0["key"] as? String }
            #expect(keys.count == 2, "\(keys)")
            #expect(keys.contains("b1") && (keys.contains("a1") != keys.contains("a2")))
            #expect(!keys.contains("c1") && !keys.contains("old"))
            let message = try #require(
                try await topic.first(timeout: .seconds(30)) { String(decoding: $0.value, as: UTF8.self).contains(id.uuidString.lowercased()) })
            await topic.close()
            let request = try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
                .decode(NotificationRequest.self)
            #expect(request.templateKey == "digest.daily")
            #expect(request.recipient.userId?.uuidString.lowercased() == user)
            #expect(request.idempotencyKey == "digest:\(id.uuidString.lowercased())")
            #expect(request.data["count"] == "2")
            #expect(request.data["articles"]?.contains("SPORT\n- Late equaliser") == true)
            // Tomorrow's is scheduled.
            let next = try #require(Self.date(try await reader.send("GET", "/v1/experience/digest/preferences").json["nextSendAt"]))
            #expect(next > later && next <= later.addingTimeInterval(86400 + 120))
        }
    }

    @Test("a send more than 30 minutes late is skipped and tomorrow's scheduled; a day with nothing new sends nothing")
    func missedAndEmpty() async throws {
        let late = try await Reader.fresh(roles: ["member"])
        let lateAt = try await subscribe(late)
        let empty = try await Reader.fresh(roles: ["member"])
        let emptyAt = try await subscribe(empty)
        try await withDatabase("experience") { database in
            let store = DigestStore(database: database)
            #expect(try await store.claim(user: late.userKey ?? "", tenant: late.tenant, now: lateAt.addingTimeInterval(31 * 60)) == .missed)
            let next = try #require(Self.date(try await late.send("GET", "/v1/experience/digest/preferences").json["nextSendAt"]))
            #expect(next > lateAt.addingTimeInterval(31 * 60))
            guard case .claimed(let id) = try await store.claim(user: empty.userKey ?? "", tenant: empty.tenant, now: emptyAt.addingTimeInterval(60))
            else {
                Issue.record("expected a claim")
                return
            }
            let digest = try #require(try await digest(empty, id, until: "nothing_new"))
            #expect((digest["articles"] as? [Any])?.isEmpty == true)
            // Only its user (or an admin, or an API client) sees it.
            #expect(
                try await Reader.fresh(roles: ["member"], tenant: empty.tenant).send("GET", "/v1/experience/digests/\(id.uuidString.lowercased())")
                    .status == 404)
            #expect(try await Reader.fresh(roles: ["owner"]).send("GET", "/v1/experience/digests/\(id.uuidString.lowercased())").status == 404)
            #expect(try await empty.send("GET", "/v1/experience/digests/not-an-id").status == 404)
        }
    }

    @Test("a tenant's due readers are claimed in one batch and assembled by one job, each digest by its own reader's mutes")
    func batch() async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let published = stamp(Date().addingTimeInterval(-3600))
        let items: [[String: Any]] = [
            ["key": "e1", "title": "Tidal power opens", "categories": ["energy"], "publishedAt": published],
            ["key": "s1", "title": "Late equaliser", "categories": ["sport"], "publishedAt": published],
        ]
        #expect(try await admin.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 200)
        var readers: [(reader: Reader, muted: String)] = []
        var scheduled = Date()
        for muted in ["sport", "energy", "weather"] {
            let reader = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
            scheduled = try await subscribe(reader, muted: [muted])
            readers.append((reader, muted))
        }
        let users = readers.compactMap(\.reader.userKey)
        let (subscribed, due) = (readers, scheduled)
        try await withDatabase("experience") { database in
            let claims = try await DigestStore(database: database).claim(users: users, tenant: admin.tenant, now: due.addingTimeInterval(60))
            let ids = users.compactMap { user -> UUID? in
                if case .claimed(let id) = claims[user] { return id }
                return nil
            }
            #expect(ids.count == 3, "\(claims)")
            let jobs = try await database.withTenant(admin.tenant) { connection in
                try await connection.query(
                    """
                    SELECT jsonb_array_length(args->'digestIds') FROM experience.jobs
                    WHERE tenant_id = \(admin.tenant) AND kind = 'experience.assemble-digests'
                    """, logger: database.logger
                ).collect().map { try $0.decode(Int.self) }
            }
            #expect(jobs == [3])
            for ((reader, muted), id) in zip(subscribed, ids) {
                let sent = try #require(try await digest(reader, id, until: "sent"))
                let keys = Set((sent["articles"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String })
                let expected: [String: Set<String>] = ["sport": ["e1"], "energy": ["s1"], "weather": ["e1", "s1"]]
                #expect(keys == expected[muted], "muted \(muted)")
            }
        }
    }
}
