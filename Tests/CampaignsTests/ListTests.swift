import Foundation
import TestSupport
import Testing

@testable import Campaigns

@Suite("lists and members")
struct ListTests {
    @Test("members join confirmed on a single opt-in list and unconfirmed on a double one; counts by status follow")
    func optIn() async throws {
        let marketer = try await Marketer.fresh()
        let single = try await marketer.create("/v1/campaigns/lists", ["name": "Offers"])
        let double = try await marketer.create("/v1/campaigns/lists", ["name": "Weekly", "optIn": "double", "visibility": "public"])
        let a = try await marketer.subscriber("a@example.com", lists: [single, double])
        let b = try await marketer.subscriber("b@example.com")
        #expect(try await marketer.send("POST", "/v1/campaigns/lists/\(single)/subscribers", json: ["subscriberIds": [b]]).json["added"] as? Int == 1)
        let singleMembers = try await marketer.send("GET", "/v1/campaigns/lists/\(single)/subscribers")
        #expect(Set(singleMembers.items.compactMap { $0["status"] as? String }) == ["confirmed"])
        let doubleMembers = try await marketer.send("GET", "/v1/campaigns/lists/\(double)/subscribers")
        #expect(doubleMembers.items.first?["status"] as? String == "unconfirmed")
        #expect(doubleMembers.items.first?["subscriberId"] as? String == a)
        let counted = try await marketer.send("GET", "/v1/campaigns/lists/\(single)")
        #expect((counted.json["counts"] as? [String: Int])?["confirmed"] == 2)
        let lists = try await marketer.send("GET", "/v1/campaigns/subscribers/\(a)/lists")
        #expect(lists.items.count == 2)
    }

    @Test("someone who unsubscribed stays unsubscribed when added again, unless a status is given")
    func unsubscribedStays() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "News"])
        let id = try await marketer.subscriber("u@example.com", lists: [list])
        let left = try await marketer.send("PATCH", "/v1/campaigns/lists/\(list)/subscribers/\(id)", json: ["status": "unsubscribed"])
        #expect(left.string("status") == "unsubscribed")
        _ = try await marketer.send("POST", "/v1/campaigns/lists/\(list)/subscribers", json: ["subscriberIds": [id]])
        #expect(try await marketer.send("GET", "/v1/campaigns/lists/\(list)/subscribers?status=unsubscribed").items.count == 1)
        _ = try await marketer.send("POST", "/v1/campaigns/lists/\(list)/subscribers", json: ["subscriberIds": [id], "status": "confirmed"])
        #expect(try await marketer.send("GET", "/v1/campaigns/lists/\(list)/subscribers?status=confirmed").items.count == 1)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/lists/\(list)/subscribers/\(id)").status == 204)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/lists/\(list)/subscribers/\(id)").status == 404)
    }

    @Test("bad input: names taken or missing, unknown or foreign subscribers, bad statuses; another tenant's list is 404")
    func refused() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Clients"])
        #expect(try await marketer.send("POST", "/v1/campaigns/lists", json: ["name": "clients"]).status == 409)
        #expect(try await marketer.send("POST", "/v1/campaigns/lists", json: ["name": ""]).status == 422)
        #expect(try await marketer.send("POST", "/v1/campaigns/lists", json: ["name": "X", "optIn": "triple"]).status == 422)
        #expect(try await marketer.send("POST", "/v1/campaigns/lists/\(list)/subscribers", json: ["subscriberIds": []]).status == 422)
        let stranger = try await Marketer.fresh()
        let foreign = try await stranger.subscriber("foreign@example.com")
        let refused = try await marketer.send("POST", "/v1/campaigns/lists/\(list)/subscribers", json: ["subscriberIds": [foreign]])
        #expect(refused.status == 422)
        #expect(try await marketer.send("GET", "/v1/campaigns/lists/\(list)/subscribers?status=maybe").status == 422)
        for (method, path) in [
            ("GET", "/v1/campaigns/lists/\(list)"), ("PATCH", "/v1/campaigns/lists/\(list)"), ("DELETE", "/v1/campaigns/lists/\(list)"),
            ("GET", "/v1/campaigns/lists/\(list)/subscribers"),
        ] {
            #expect(try await stranger.send(method, path, json: method == "PATCH" ? ["name": "mine"] : nil).status == 404, "\(method) \(path)")
        }
        #expect(try await stranger.send("POST", "/v1/campaigns/lists/\(list)/subscribers", json: ["subscriberIds": [foreign]]).status == 404)
    }

    @Test("a list is renamed with If-Match and deleted without touching its subscribers")
    func renamedAndDeleted() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Old"])
        let id = try await marketer.subscriber("keep@example.com", lists: [list])
        let renamed = try await marketer.send(
            "PATCH", "/v1/campaigns/lists/\(list)", json: ["name": "New", "description": "Renamed"], headers: ["If-Match": "\"v1\""])
        #expect(renamed.status == 200)
        #expect(renamed.string("name") == "New")
        #expect(
            try await marketer.send("PATCH", "/v1/campaigns/lists/\(list)", json: ["name": "Newer"], headers: ["If-Match": "\"v1\""]).status == 412)
        #expect(try await marketer.send("PATCH", "/v1/campaigns/lists/\(list)", json: ["name": NSNull()]).status == 422)
        #expect(try await marketer.send("DELETE", "/v1/campaigns/lists/\(list)").status == 204)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers/\(id)").status == 200)
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers/\(id)/lists").items.isEmpty)
    }
}

@Suite("double opt-in")
struct DoubleOptInTests {
    @Test("a new member of a double opt-in list gets an email with a signed link; opening it confirms them, once; a tampered link is 404")
    func confirmed() async throws {
        let marketer = try await Marketer.fresh()
        let list = try await marketer.create("/v1/campaigns/lists", ["name": "Weekly garden notes", "optIn": "double"])
        let address = "confirm-\(UUID().uuidString.prefix(8).lowercased())@optin.test"
        let subscriber = try await marketer.subscriber(address, name: "Rosa", lists: [list])
        let mail = try #require(try await Mailbox.first(to: address, timeout: .seconds(30)))
        #expect(mail.subject == "Please confirm your subscription to Weekly garden notes")
        let text = try #require(mail.parts["text/plain"])
        let link = try #require(text.split(separator: "\n").first { $0.contains("/v1/campaigns/t/confirm/") }).trimmingCharacters(in: .whitespaces)
        let local = try UnsubscribeTests.local(link, server: marketer.url)
        var tampered = Array(local)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
        #expect(try await TestHTTP.send("GET", String(tampered)).status == 404)
        let page = try await TestHTTP.send("GET", local)
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self).contains("confirmed"))
        let members = try await marketer.send("GET", "/v1/campaigns/lists/\(list)/subscribers")
        #expect(members.items.first { $0["subscriberId"] as? String == subscriber }?["status"] as? String == "confirmed")
        #expect(String(decoding: try await TestHTTP.send("GET", local).body, as: UTF8.self).contains("nothing to confirm"))
        // A single opt-in list asks nobody.
        let single = try await marketer.create("/v1/campaigns/lists", ["name": "Offers"])
        let other = "single-\(UUID().uuidString.prefix(8).lowercased())@optin.test"
        _ = try await marketer.subscriber(other, lists: [single])
        try await Task.sleep(for: .seconds(2))
        #expect(Mailbox.messages(to: other).isEmpty)
    }
}

@Suite("preference page")
struct PreferencePageTests {
    @Test("the email's preferences link shows the public lists and the reader's; saving the boxes subscribes and unsubscribes")
    func saved() async throws {
        let marketer = try await Marketer.fresh()
        let html = "<p>{{offer}}</p><p><a href=\"{{preferencesUrl}}\">Preferences</a> <a href=\"{{unsubscribeUrl}}\">Unsubscribe</a></p>"
        let (campaign, addresses) = try await marketer.campaign(recipients: 1, html: html)
        let shop = try await marketer.create("/v1/campaigns/lists", ["name": "Shop news", "visibility": "public"])
        let hidden = try await marketer.create("/v1/campaigns/lists", ["name": "Internal", "visibility": "private"])
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let body = try #require(Mailbox.messages(to: addresses[0]).first?.parts["text/html"])
        let link = try UnsubscribeTests.local(
            try #require(TrackingTests.attribute("href", containing: "/t/preferences/", in: body)), server: marketer.url)
        let page = String(decoding: try await TestHTTP.send("GET", link).body, as: UTF8.self)
        #expect(page.contains("Shop news"))
        #expect(!page.contains("Internal"))
        let draft = try await marketer.send("GET", "/v1/campaigns/\(campaign)")
        let own = try #require((draft.json["listIds"] as? [String])?.first)
        #expect(page.contains("value=\"\(own)\" checked"))
        // Keep only the shop's news: off the campaign's list, onto the public one.
        let saved = try await TestHTTP.send(
            "POST", link, raw: "list=\(shop)", headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(saved.status == 200)
        #expect(String(decoding: saved.body, as: UTF8.self).contains("Saved."))
        let subscriber = try #require(try await marketer.send("GET", "/v1/campaigns/subscribers?q=\(addresses[0])").items.first?["id"] as? String)
        let lists = try await marketer.send("GET", "/v1/campaigns/subscribers/\(subscriber)/lists").items
        #expect(lists.first { $0["listId"] as? String == own }?["status"] as? String == "unsubscribed")
        #expect(lists.first { $0["listId"] as? String == shop }?["status"] as? String == "confirmed")
        // A private list cannot be joined through the page.
        _ = try await TestHTTP.send("POST", link, raw: "list=\(shop)&list=\(hidden)", headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(try await marketer.send("GET", "/v1/campaigns/subscribers/\(subscriber)/lists").items.count == 2)
        #expect(try await TestHTTP.send("GET", link.replacingOccurrences(of: "/t/preferences/", with: "/t/unsubscribe/")).status == 404)
    }
}
