import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

@testable import Campaigns

@Suite("bounce and complaint reports")
struct DeliveryReportTests {
    static func dsn(recipient: String, action: String, status: String, messageID: String) -> String {
        """
        From: MAILER-DAEMON@mx.example\r
        Subject: Undelivered Mail Returned to Sender\r
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r
        \r
        --b1\r
        Content-Type: text/plain\r
        \r
        The mail could not be delivered.\r
        --b1\r
        Content-Type: message/delivery-status\r
        \r
        Reporting-MTA: dns; mx.example\r
        \r
        Final-Recipient: rfc822; \(recipient)\r
        Action: \(action)\r
        Status: \(status)\r
        Diagnostic-Code: smtp; 550 5.1.1 user unknown\r
        --b1\r
        Content-Type: text/rfc822-headers\r
        \r
        Message-ID: <\(messageID)>\r
        Subject: Spring sale\r
        --b1--\r
        """
    }

    @Test("a DSN's recipients, actions and statuses become hard or soft bounces; an abuse report a complaint; anything else nothing")
    func reading() {
        let campaign = UUID()
        let subscriber = UUID()
        let id = "\(campaign.uuidString.lowercased()).\(subscriber.uuidString.lowercased())@acme.test"
        let hard = DeliveryReport.read(Self.dsn(recipient: "Gone@Example.com", action: "failed", status: "5.1.1", messageID: id))
        #expect(hard == [DeliveryReport(kind: .hard, recipient: "gone@example.com", status: "5.1.1", campaign: campaign, subscriber: subscriber)])
        #expect(DeliveryReport.read(Self.dsn(recipient: "a@x.test", action: "delayed", status: "4.4.1", messageID: id)).first?.kind == .soft)
        #expect(DeliveryReport.read(Self.dsn(recipient: "a@x.test", action: "delivered", status: "2.0.0", messageID: id)).isEmpty)
        let arf =
            "Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nOriginal-Rcpt-To: <Angry@Example.com>\r\n\r\nMessage-ID: <\(id)>\r\n"
        #expect(
            DeliveryReport.read(arf) == [DeliveryReport(kind: .complaint, recipient: "angry@example.com", campaign: campaign, subscriber: subscriber)]
        )
        #expect(DeliveryReport.read("Hello, this is just a letter.").isEmpty)
        #expect(DeliveryReport.campaignMessageID("<not-a-campaign@x>") == nil)
    }
}

@Suite("suppressions")
struct SuppressionTests {
    @Test("a hard bounce report marks the send, suppresses the address, announces it; the next campaign leaves it out")
    func bounced() async throws {
        let reader = try TopicReader(topic: Topics.campaignsSuppression.name)
        let marketer = try await Marketer.fresh()
        let (campaign, addresses) = try await marketer.campaign(recipients: 2)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let mail = try #require(Mailbox.messages(to: addresses[0]).first)
        let messageID = try #require(mail.headers["message-id"]).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        let report = DeliveryReportTests.dsn(recipient: addresses[0], action: "failed", status: "5.1.1", messageID: messageID)
        let answer = try await marketer.send("POST", "/v1/campaigns/bounces", raw: report, headers: ["Content-Type": "multipart/report"])
        #expect(answer.status == 200)
        #expect((answer.json["applied"] as? [String: Any])?["hard"] as? Int == 1)
        #expect(try await marketer.send("GET", "/v1/campaigns/\(campaign)/status").json["bounced"] as? Int == 1)
        let suppressed = try await marketer.send("GET", "/v1/campaigns/suppressions")
        #expect(suppressed.items.compactMap { $0["email"] as? String } == [addresses[0]])
        let event = try await reader.first(timeout: .seconds(30)) { $0.key == "\(marketer.tenant.uuidString.lowercased()):\(addresses[0])" }
        await reader.close()
        #expect(event?.headers["ce_type"] == SuppressionChanged.added)

        let draft = try await marketer.send("GET", "/v1/campaigns/\(campaign)")
        let again = try await marketer.create(
            "/v1/campaigns",
            [
                "name": "Again", "templateId": try #require(draft.string("templateId")), "fromEmail": marketer.sender,
                "listIds": try #require(draft.json["listIds"] as? [String]), "data": ["offer": "more"],
            ])
        #expect(try await marketer.send("POST", "/v1/campaigns/\(again)/launch").json["audience"] as? Int == 1)
    }

    @Test("suppressions by hand: added, listed, removed; bad addresses and reports refused; another tenant's list is its own")
    func byHand() async throws {
        let marketer = try await Marketer.fresh()
        #expect(try await marketer.send("POST", "/v1/campaigns/suppressions", json: ["email": "No@Thanks.test"]).status == 201)
        #expect(try await marketer.send("POST", "/v1/campaigns/suppressions", json: ["email": "no@thanks.test"]).status == 200)
        #expect(try await marketer.send("POST", "/v1/campaigns/suppressions", json: ["email": "not an address"]).status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns/suppressions").items.count == 1)
        #expect(try await Marketer.fresh().send("GET", "/v1/campaigns/suppressions").items.isEmpty)
        #expect(try await Marketer.fresh().send("DELETE", "/v1/campaigns/suppressions/no@thanks.test").status == 404)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/suppressions/no@thanks.test").status == 204)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/suppressions/no@thanks.test").status == 404)
        #expect(try await marketer.send("POST", "/v1/campaigns/bounces", raw: "just a letter").status == 422)
        let viewer = try await Marketer.fresh(roles: ["viewer"], tenant: marketer.tenant)
        #expect(try await viewer.send("POST", "/v1/campaigns/bounces", raw: "x").status == 403)
    }
}
