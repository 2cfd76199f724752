import Crypto
import Foundation
import Mail
import Persistence
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Campaigns
@testable import Jobs

/// A campaign running with its audience frozen but no delivery jobs: the test plays the senders.
func startedByHand(_ campaign: UUID, tenant: UUID, database: Database) async throws {
    try await database.withTenant(tenant) { connection in
        let store = CampaignStore(database: database)
        guard let draft = try await store.fetch(campaign, lock: true, on: connection) else { return }
        let audience = try await store.freezeAudience(draft, tenant: tenant, on: connection)
        try await connection.query(
            "UPDATE campaigns.campaigns SET state = 'running', audience = \(audience), started_at = now() WHERE id = \(campaign)",
            logger: database.logger)
    }
}

@Suite("campaign delivery recovery")
struct DeliveryRecoveryTests {
    @Test("a sender killed mid-chunk: its unrecorded sends go out once on resume, and a send recorded as sent never goes again")
    func killedSender() async throws {
        let marketer = try await Marketer.fresh()
        let (campaignID, addresses) = try await marketer.campaign(recipients: 10)
        let campaign = try #require(UUID(uuidString: campaignID))
        let tenant = marketer.tenant
        try await withDatabase("campaigns") { database in
            // Started by hand, with no delivery jobs: this test plays every sender.
            try await startedByHand(campaign, tenant: tenant, database: database)
            // A sender claims five, gets two accepted and recorded, and dies holding three.
            let dying = SendStore(database: database, sealer: KeySealer(key: SymmetricKey(size: .bits256)), claim: .seconds(1))
            let claimed = try await dying.claim(campaign, limit: 5, tenant: tenant)
            #expect(claimed.count == 5)
            for recipient in claimed.prefix(2) {
                try await dying.sent(campaign, subscriber: recipient.subscriberID, messageID: "dead-\(recipient.subscriberID)", tenant: tenant)
            }
            try await Task.sleep(for: .seconds(2))

            let configuration = try CampaignsConfiguration.forTests(TestEnvironment.configuration("campaigns"))
            let delivery = CampaignDelivery(
                sends: SendStore(database: database, sealer: KeySealer(key: configuration.keyEncryptionKey)),
                mailer: SMTPMailer(configuration: configuration.smtp), pacer: CampaignPacer(),
                linkSecret: configuration.linkSecret, publicURL: configuration.publicURL, chunk: 100)
            let context = JobContext(
                id: 1, tenantID: tenant, kind: CampaignJobs.deliver.name, attempt: 1, maxAttempts: 1, logger: TestEnvironment.logger)
            try await delivery.deliver(campaign, context: context)
            let recorded = Set(claimed.prefix(2).map(\.email))
            for address in addresses {
                #expect(Mailbox.messages(to: address).count == (recorded.contains(address) ? 0 : 1), "\(address)")
            }
        }
        let status = try await marketer.send("GET", "/v1/campaigns/\(campaignID)/status")
        #expect(status.json["sent"] as? Int == 10)
        #expect(status.string("state") == "finished")
    }
}

@Suite("unsubscribe links")
struct UnsubscribeTests {
    /// The link of an email, pointed at the test server instead of the public address.
    static func local(_ header: String, server: String) throws -> String {
        let url = header.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        let path = try #require(url.range(of: "/v1/campaigns/t/")).lowerBound
        return server + url[path...]
    }

    @Test("the email's link shows whom it unsubscribes; one click unsubscribes them and the next campaign leaves them out; a tampered link is 404")
    func oneClick() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, addresses) = try await marketer.campaign(recipients: 2)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let mail = try #require(Mailbox.messages(to: addresses[0]).first)
        let link = try Self.local(try #require(mail.headers["list-unsubscribe"]), server: marketer.url)

        let page = try await TestHTTP.send("GET", link)
        #expect(page.status == 200)
        #expect(page.contentType.hasPrefix("text/html"))
        #expect(String(decoding: page.body, as: UTF8.self).contains(addresses[0]))
        var tampered = Array(link)
        let last = tampered.count - 3
        tampered[last] = tampered[last] == "A" ? "B" : "A"
        #expect(try await TestHTTP.send("GET", String(tampered)).status == 404)
        #expect(try await TestHTTP.send("POST", String(tampered), raw: "List-Unsubscribe=One-Click").status == 404)
        #expect(try await TestHTTP.send("GET", marketer.url + "/v1/campaigns/t/unsubscribe/not-a-token").status == 404)

        let done = try await TestHTTP.send(
            "POST", link, raw: "List-Unsubscribe=One-Click", headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(done.status == 200)
        #expect(try await TestHTTP.send("POST", link, raw: "List-Unsubscribe=One-Click").status == 200)

        let draft = try await marketer.send("GET", "/v1/campaigns/\(campaign)")
        let again = try await marketer.create(
            "/v1/campaigns",
            [
                "name": "Again", "templateId": try #require(draft.string("templateId")), "fromEmail": marketer.sender,
                "listIds": try #require(draft.json["listIds"] as? [String]), "data": ["offer": "more"],
            ])
        let launched = try await marketer.send("POST", "/v1/campaigns/\(again)/launch")
        #expect(launched.json["audience"] as? Int == 1)
        _ = try await marketer.waitFor(again, state: "finished")
        #expect(Mailbox.messages(to: addresses[0]).count == 1)
        #expect(Mailbox.messages(to: addresses[1]).count == 2)
    }

    @Test("a token signed for one purpose or with another secret is no unsubscribe link")
    func tokens() {
        let secret = SymmetricKey(size: .bits256)
        let link = SignedLink(purpose: .unsubscribe, tenant: UUID(), campaign: UUID(), subscriber: UUID())
        #expect(SignedLink.verify(link.token(secret: secret), secret: secret) == link)
        #expect(SignedLink.verify(link.token(secret: secret), secret: SymmetricKey(size: .bits256)) == nil)
        var other = link
        other.purpose = .open
        #expect(SignedLink.verify(other.token(secret: secret), secret: secret)?.purpose == .open)
        #expect(SignedLink.verify("", secret: secret) == nil)
        #expect(SignedLink.verify(String(repeating: "A", count: 87), secret: secret) == nil)
    }
}

@Suite("opens and clicks")
struct TrackingTests {
    @Test("links go through a signed redirect and the pixel reports opens; counts are total and unique; a changed address or token is 404")
    func tracked() async throws {
        let marketer = try await Marketer.fresh()
        let html = """
            <html><body><p>{{offer}}</p><p><a href="https://shop.example/sale?x=1&amp;y=2">Shop</a> <a href="mailto:help@acme.test">Help</a></p>\
            <p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p></body></html>
            """
        let (campaign, addresses) = try await marketer.campaign(recipients: 2, html: html)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let body = try #require(Mailbox.messages(to: addresses[0]).first?.parts["text/html"])
        #expect(body.contains("href=\"mailto:help@acme.test\""))
        #expect(!body.contains("href=\"https://shop.example"))
        let click = try #require(Self.attribute("href", containing: "/t/click/", in: body)).replacingOccurrences(of: "&amp;", with: "&")
        let pixel = try #require(Self.attribute("src", containing: "/t/open/", in: body))
        let localClick = try UnsubscribeTests.local(click, server: marketer.url)
        let localPixel = try UnsubscribeTests.local(pixel, server: marketer.url)

        let opened = try await TestHTTP.send("GET", localPixel)
        #expect(opened.status == 200)
        #expect(opened.contentType == "image/gif")
        _ = try await TestHTTP.send("GET", localPixel)
        let followed = try await TestHTTP.send("GET", localClick, followRedirects: false)
        #expect(followed.status == 302)
        #expect(followed.headers["location"] == "https://shop.example/sale?x=1&y=2")
        // Elsewhere with the same token: refused, never redirected.
        let elsewhere = localClick.replacingOccurrences(of: "shop.example", with: "evil.example")
        #expect(try await TestHTTP.send("GET", elsewhere, followRedirects: false).status == 404)
        #expect(
            try await TestHTTP.send("GET", localPixel.replacingOccurrences(of: "/t/open/", with: "/t/click/"), followRedirects: false).status == 404)
        #expect(try await TestHTTP.send("GET", marketer.url + "/v1/campaigns/t/open/AAAA").status == 404)

        let status = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        let engagement = try #require(status.json["engagement"] as? [String: Any])
        #expect(engagement["opens"] as? Int == 2)
        #expect(engagement["uniqueOpens"] as? Int == 1)
        #expect(engagement["clicks"] as? Int == 1)
        #expect((engagement["links"] as? [[String: Any]])?.first?["url"] as? String == "https://shop.example/sale?x=1&y=2")
    }

    static func attribute(_ name: String, containing part: String, in html: String) -> String? {
        var rest = Substring(html)
        while let start = rest.range(of: "\(name)=\"") {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            let value = String(rest[..<end])
            if value.contains(part) { return value }
        }
        return nil
    }
}

@Suite("campaign auto-pause")
struct AutoPauseTests {
    @Test("a run of failed sends pauses the campaign by itself, with the reason; the recipients wait for a resume, none failed for good")
    func pausesItself() async throws {
        let marketer = try await Marketer.fresh()
        let (campaignID, _) = try await marketer.campaign(recipients: 20)
        _ = try await marketer.send("PATCH", "/v1/campaigns/\(campaignID)", json: ["maxConsecutiveFailures": 3])
        let campaign = try #require(UUID(uuidString: campaignID))
        let tenant = marketer.tenant
        try await withDatabase("campaigns") { database in
            try await startedByHand(campaign, tenant: tenant, database: database)
            // A mail server that is not there: every send fails, none for good.
            let mailer = SMTPMailer(
                configuration: SMTPConfiguration(url: "smtp://127.0.0.1:9", requireTLS: false, from: "b@acme.test", timeoutSeconds: 2))
            let configuration = try CampaignsConfiguration.forTests(TestEnvironment.configuration("campaigns"))
            let delivery = CampaignDelivery(
                sends: SendStore(database: database, sealer: KeySealer(key: configuration.keyEncryptionKey)), mailer: mailer, pacer: CampaignPacer(),
                linkSecret: configuration.linkSecret,
                publicURL: configuration.publicURL, concurrency: 2, chunk: 100)
            let context = JobContext(
                id: 1, tenantID: tenant, kind: CampaignJobs.deliver.name, attempt: 1, maxAttempts: 1, logger: TestEnvironment.logger)
            try await delivery.deliver(campaign, context: context)
        }
        let paused = try await marketer.send("GET", "/v1/campaigns/\(campaignID)")
        #expect(paused.string("state") == "paused")
        #expect(paused.string("pauseReason")?.contains("failures in a row") == true)
        let status = try await marketer.send("GET", "/v1/campaigns/\(campaignID)/status")
        #expect(status.json["sent"] as? Int == 0)
        #expect(status.json["failed"] as? Int == 0)
        #expect(status.json["queued"] as? Int == 20)
    }
}
