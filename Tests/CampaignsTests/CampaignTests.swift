import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@testable import Campaigns

extension Marketer {
    /// A template, a list of `count` confirmed subscribers at unique addresses, and a draft
    /// campaign to it; answers the campaign id and the addresses.
    func campaign(recipients count: Int, rate: Double = 200, html: String? = nil) async throws -> (String, [String]) {
        let template = try await create(
            "/v1/campaigns/templates",
            [
                "name": "T \(UUID().uuidString.prefix(6))", "subject": "Hello {{name}}",
                "html": html ?? "<p>Dear {{name}}, {{offer}}</p><p><a href=\"{{unsubscribeUrl}}\">Unsubscribe</a></p>", "variables": ["offer"],
            ])
        let list = try await create("/v1/campaigns/lists", ["name": "L \(UUID().uuidString.prefix(6))"])
        let run = UUID().uuidString.prefix(8).lowercased()
        var addresses: [String] = []
        for index in 0..<count {
            let address = "r\(index)-\(run)@campaigns.test"
            _ = try await subscriber(address, name: "Reader \(index)", lists: [list])
            addresses.append(address)
        }
        try await verifySender()
        let id = try await create(
            "/v1/campaigns",
            [
                "name": "Spring \(run)", "templateId": template, "fromName": "Acme Gardens", "fromEmail": sender, "listIds": [list],
                "data": ["offer": "20% off roses"], "ratePerSecond": rate,
            ])
        return (id, addresses)
    }

    /// Polls the campaign until it is in `state`.
    func waitFor(_ campaign: String, state: String, timeout: Duration = .seconds(60)) async throws -> HTTPAnswer {
        _ = try await eventually(timeout: timeout) { try await send("GET", "/v1/campaigns/\(campaign)").string("state") == state }
        return try await send("GET", "/v1/campaigns/\(campaign)")
    }
}

@Suite("campaigns")
struct CampaignTests {
    @Test("a launched campaign sends each recipient exactly one email, with the pinned version, one-click unsubscribe and a stable Message-ID")
    func delivered() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, addresses) = try await marketer.campaign(recipients: 12)
        let launched = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        #expect(launched.status == 202)
        #expect(launched.string("state") == "running")
        #expect(launched.json["audience"] as? Int == 12)
        let finished = try await marketer.waitFor(campaign, state: "finished")
        #expect(finished.string("finishedAt") != nil)
        for address in addresses {
            let mails = Mailbox.messages(to: address)
            #expect(mails.count == 1, "\(address): \(mails.count) mails")
            guard let mail = mails.first else { continue }
            #expect(mail.subject.hasPrefix("Hello Reader"))
            #expect(mail.parts["text/html"]?.contains("20% off roses") == true)
            #expect(mail.headers["from"] == "Acme Gardens <\(marketer.sender)>")
            #expect(mail.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click")
            #expect(mail.headers["list-unsubscribe"]?.contains("/v1/campaigns/t/unsubscribe/") == true)
            #expect(mail.headers["message-id"]?.hasPrefix("<\(campaign).") == true)
            #expect(mail.headers["list-id"]?.contains(campaign) == true)
        }
        let status = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        #expect(status.json["sent"] as? Int == 12)
        #expect(status.json["queued"] as? Int == 0)
        #expect((status.json["perMinute"] as? [[String: Any]])?.isEmpty == false)
    }

    @Test("illegal moves answer 409 and change nothing; a draft is edited with If-Match, a started campaign is not")
    func transitions() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 1)
        for move in ["pause", "resume"] {
            #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/\(move)").status == 409, "\(move) a draft")
        }
        #expect(
            try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["name": "Renamed"], headers: ["If-Match": "\"v1\""]).status == 200)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["name": "Again"], headers: ["If-Match": "\"v1\""]).status == 412)
        let later = Date().addingTimeInterval(3600)
        let scheduled = try await marketer.send(
            "POST", "/v1/campaigns/\(campaign)/launch", json: ["at": ISO8601DateFormatter().string(from: later), "timeZone": "Europe/Berlin"])
        #expect(scheduled.status == 202, "\(String(decoding: scheduled.body, as: UTF8.self))")
        #expect(scheduled.string("state") == "scheduled")
        #expect(scheduled.string("timeZone") == "Europe/Berlin")
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["name": "Late edit"]).status == 409)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/resume").status == 409)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/\(campaign)").status == 409)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/cancel").string("state") == "cancelled")
        for move in ["launch", "pause", "resume", "cancel"] {
            #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/\(move)").status == 409, "\(move) a cancelled campaign")
        }
        #expect(try await marketer.send("GET", "/v1/campaigns/\(campaign)").string("state") == "cancelled")
        #expect(try await marketer.send("DELETE", "/v1/campaigns/\(campaign)").status == 204)
    }

    @Test("bad drafts are refused: missing or foreign template, lists or segments, bad sender, rate or time zone; other tenants see 404")
    func refused() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 1)
        let draft = try await marketer.send("GET", "/v1/campaigns/\(campaign)")
        let template = try #require(draft.string("templateId"))
        let base: [String: Any] = ["name": "X", "templateId": template, "fromEmail": "a@acme.test"]
        let cases: [[String: Any]] = [
            ["name": "X", "fromEmail": "a@acme.test"],
            base.merging(["templateId": UUID().uuidString]) { $1 },
            base.merging(["templateVersion": 9]) { $1 },
            base.merging(["fromEmail": "not an address"]) { $1 },
            base.merging(["fromName": "Evil\r\nBcc: x@y.z"]) { $1 },
            base.merging(["listIds": [UUID().uuidString]]) { $1 },
            base.merging(["segmentIds": [UUID().uuidString]]) { $1 },
            base.merging(["ratePerSecond": 0]) { $1 },
            base.merging(["replyTo": "nope"]) { $1 },
        ]
        for body in cases {
            let answer = try await marketer.send("POST", "/v1/campaigns", json: body)
            #expect(answer.status == 422, "\(body): \(answer.status)")
        }
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch", json: ["timeZone": "Mars/Olympus"]).status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns?state=sleeping").status == 422)
        let noAudience = try await marketer.create("/v1/campaigns", base)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(noAudience)/launch").status == 422)
        let stranger = try await Marketer.fresh()
        for (method, path) in [
            ("GET", "/v1/campaigns/\(campaign)"), ("PATCH", "/v1/campaigns/\(campaign)"), ("DELETE", "/v1/campaigns/\(campaign)"),
            ("POST", "/v1/campaigns/\(campaign)/launch"), ("POST", "/v1/campaigns/\(campaign)/cancel"), ("GET", "/v1/campaigns/\(campaign)/status"),
        ] {
            #expect(try await stranger.send(method, path, json: method == "PATCH" ? ["name": "x"] : nil).status == 404, "\(method) \(path)")
        }
        // A template pinned by a campaign is not deleted from under it.
        #expect(try await marketer.send("DELETE", "/v1/campaigns/templates/\(template)").status == 409)
    }

    @Test("pausing stops the sending within a few messages; resuming sends the rest, and nobody gets two")
    func pausedAndResumed() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, addresses) = try await marketer.campaign(recipients: 30, rate: 10)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await eventually(timeout: .seconds(30)) {
            (try await marketer.send("GET", "/v1/campaigns/\(campaign)/status").json["sent"] as? Int ?? 0) >= 3
        }
        let paused = try await marketer.send("POST", "/v1/campaigns/\(campaign)/pause")
        #expect(paused.string("state") == "paused")
        try await Task.sleep(for: .seconds(3))
        let held = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        let sentWhilePaused = held.json["sent"] as? Int ?? 0
        try await Task.sleep(for: .seconds(2))
        #expect(try await marketer.send("GET", "/v1/campaigns/\(campaign)/status").json["sent"] as? Int == sentWhilePaused)
        #expect(sentWhilePaused < 30)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/resume").string("state") == "running")
        _ = try await marketer.waitFor(campaign, state: "finished")
        #expect(addresses.allSatisfy { Mailbox.messages(to: $0).count == 1 })
    }
}

extension CampaignTests {
    @Test("pausing or cancelling takes back the campaign's waiting delivery jobs; resuming queues them afresh")
    func deliveryJobsWithdrawn() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 250, rate: 5)
        let pending = {
            try await withDatabase("campaigns") { database in
                try await database.withTenant(marketer.tenant) { connection in
                    var count = 0
                    for try await found in try await connection.query(
                        """
                        SELECT count(*)::int FROM campaigns.jobs
                        WHERE kind = 'campaigns.deliver' AND args->>'campaignId' ILIKE \(campaign) AND state IN ('available', 'scheduled')
                        """, logger: database.logger
                    ).decode(Int.self) {
                        count = found
                    }
                    return count
                }
            }
        }
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        #expect(try await pending() >= 2, "three chunks queued, one perhaps claimed already")
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/pause").string("state") == "paused")
        #expect(try await pending() == 0)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/resume").string("state") == "running")
        #expect(try await pending() >= 1)
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/cancel").string("state") == "cancelled")
        #expect(try await pending() == 0)
    }
}

@Suite("hourly cap")
struct HourlyCapTests {
    @Test("a campaign capped at 5 an hour sends 5 and keeps the rest waiting for the window; a bad cap is refused")
    func capped() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 12)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["maxPerHour": 0]).status == 422)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["maxPerHour": 5]).json["maxPerHour"] as? Int == 5)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await eventually(timeout: .seconds(30)) {
            (try await marketer.send("GET", "/v1/campaigns/\(campaign)/status").json["sent"] as? Int ?? 0) >= 5
        }
        try await Task.sleep(for: .seconds(3))
        let status = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        #expect(status.json["sent"] as? Int == 5)
        #expect(status.json["queued"] as? Int == 7)
        #expect(status.string("state") == "running")
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/cancel")
    }
}

@Suite("campaign events")
struct CampaignEventTests {
    @Test("state changes are announced on campaigns.campaign.v1 with their counts: started, then finished with every send")
    func announced() async throws {
        let reader = try TopicReader(topic: Topics.campaignsCampaign.name)
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 3)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let finished = try await reader.first(timeout: .seconds(30)) { $0.key == campaign && $0.headers["ce_type"] == CampaignChanged.finished }
        let events = reader.messages.filter { $0.key == campaign }
        await reader.close()
        #expect(events.compactMap { $0.headers["ce_type"] } == [CampaignChanged.started, CampaignChanged.finished])
        let message = try #require(finished)
        let payload = try EventEnvelope(topic: message.topic, key: message.key, headers: message.headers, data: Data(message.value))
            .decode(CampaignChanged.self)
        #expect(payload.state == "finished")
        #expect(payload.sent == 3)
        #expect(payload.audience == 3)
        #expect(payload.tenantId == marketer.tenant)
    }
}

@Suite("sender addresses")
struct SenderTests {
    @Test("a campaign starts only from an address the tenant proved by the link emailed to it; members cannot add addresses")
    func verified() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 1)
        let unproven = "other-\(UUID().uuidString.prefix(8).lowercased())@acme.test"
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["fromEmail": unproven]).status == 200)
        let refused = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("verified"))
        #expect(try await marketer.send("POST", "/v1/admin/campaigns/senders", json: ["email": unproven]).status == 403)
        let (url, issuer) = try await CampaignsServer.shared.get()
        let owner = Marketer(url: url, token: try await issuer.token(tenant: marketer.tenant, roles: ["owner"]), tenant: marketer.tenant)
        #expect(try await owner.send("POST", "/v1/admin/campaigns/senders", json: ["email": "nope"]).status == 422)
        let added = try await owner.send("POST", "/v1/admin/campaigns/senders", json: ["email": unproven])
        #expect(added.status == 201)
        #expect(added.json["verified"] as? Bool == false)
        let mail = try #require(try await Mailbox.first(to: unproven, timeout: .seconds(30)))
        let line = try #require(mail.parts["text/plain"]?.split(separator: "\n").first { $0.contains("/verify-sender/") })
        let link = try UnsubscribeTests.local(String(line).trimmingCharacters(in: .whitespaces), server: url)
        #expect(try await TestHTTP.send("GET", link + "x").status == 404)
        #expect(try await TestHTTP.send("GET", link).status == 200)
        #expect(
            try await owner.send("GET", "/v1/admin/campaigns/senders").items.contains {
                $0["email"] as? String == unproven && $0["verified"] as? Bool == true
            })
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch").status == 202)
        #expect(try await Marketer.fresh(roles: ["owner"]).send("GET", "/v1/admin/campaigns/senders").items.isEmpty)
    }
}
