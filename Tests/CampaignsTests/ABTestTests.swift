import Foundation
import TestSupport
import Testing

@testable import Campaigns

@Suite("A/B tests")
struct ABTestTests {
    @Test("the test share gets the variants, the rest waits; the better-opened variant wins and goes to the rest; nobody gets two")
    func winnerGoesToTheRest() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, addresses) = try await marketer.campaign(recipients: 40)
        let test: [String: Any] = [
            "variants": [["name": "A", "subject": "A for {{name}}"], ["name": "B", "subject": "B for {{name}}"]], "testPercent": 50,
            "metric": "manual",
            "waitMinutes": 60,
        ]
        #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["abTest": test]).status == 200)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await eventually(timeout: .seconds(60)) {
            let status = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
            return (status.json["queued"] as? Int) == 0 && (status.json["sending"] as? Int) == 0
        }
        let testing = try await marketer.send("GET", "/v1/campaigns/\(campaign)/status")
        let held = try #require(testing.json["held"] as? Int)
        let sent = try #require(testing.json["sent"] as? Int)
        #expect(held > 0 && sent > 0 && held + sent == 40, "held \(held), sent \(sent)")
        #expect(testing.string("state") == "running")
        let mailed = addresses.filter { !Mailbox.messages(to: $0).isEmpty }
        #expect(mailed.count == sent)
        var bOpeners = 0
        for address in mailed {
            let mail = try #require(Mailbox.messages(to: address).first)
            #expect(mail.subject.hasPrefix("A for") || mail.subject.hasPrefix("B for"), "\(mail.subject)")
            // Readers of B open it; readers of A do not.
            if mail.subject.hasPrefix("B for"), let html = mail.parts["text/html"],
                let pixel = TrackingTests.attribute("src", containing: "/t/open/", in: html)
            {
                _ = try await TestHTTP.send("GET", try UnsubscribeTests.local(pixel, server: marketer.url))
                bOpeners += 1
            }
        }
        #expect(bOpeners > 0)
        let variants = try #require(testing.json["variants"] as? [[String: Any]])
        #expect(variants.compactMap { $0["name"] as? String } == ["A", "B"])

        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/winner", json: ["variant": "C"]).status == 422)
        let picked = try await marketer.send("POST", "/v1/campaigns/\(campaign)/winner")
        #expect(picked.status == 200)
        #expect(picked.string("winner") == "B")
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/winner").status == 409)
        _ = try await marketer.waitFor(campaign, state: "finished")
        for address in addresses {
            let mails = Mailbox.messages(to: address)
            #expect(mails.count == 1, "\(address): \(mails.count)")
            if !mailed.contains(address) { #expect(mails.first?.subject.hasPrefix("B for") == true) }
        }
    }

    @Test("bad tests are refused: too few variants, a share over half, a missing template version; no test, no winner")
    func refused() async throws {
        let marketer = try await Marketer.fresh()
        let (campaign, _) = try await marketer.campaign(recipients: 1)
        let one: [String: Any] = ["variants": [["name": "A"]], "testPercent": 20, "metric": "open", "waitMinutes": 60]
        let wide: [String: Any] = ["variants": [["name": "A"], ["name": "B"]], "testPercent": 80, "metric": "open", "waitMinutes": 60]
        let missing: [String: Any] = [
            "variants": [["name": "A"], ["name": "B", "templateVersion": 9]], "testPercent": 20, "metric": "click", "waitMinutes": 60,
        ]
        let twins: [String: Any] = ["variants": [["name": "A"], ["name": "A"]], "testPercent": 20, "metric": "open", "waitMinutes": 60]
        for test in [one, wide, missing, twins] {
            #expect(try await marketer.send("PATCH", "/v1/campaigns/\(campaign)", json: ["abTest": test]).status == 422)
        }
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        #expect(try await marketer.send("POST", "/v1/campaigns/\(campaign)/winner").status == 409)
        #expect(try await Marketer.fresh().send("POST", "/v1/campaigns/\(campaign)/winner").status == 404)
    }
}
