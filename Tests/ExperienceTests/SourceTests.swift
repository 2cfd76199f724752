import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite("sources: feeds followed, fetched into the catalogue")
struct SourceTests {
    func server() async throws -> FeedServer { try await FeedServer.shared.value() }

    func add(_ reader: Reader, _ url: String, tenantWide: Bool = false) async throws -> HTTPAnswer {
        try await reader.send("POST", "/v1/experience/sources", json: ["url": url, "tenantWide": tenantWide])
    }

    /// The source once `condition` holds of it (fetches run as jobs).
    func source(_ reader: Reader, _ id: String, until condition: @escaping ([String: Any]) -> Bool) async throws -> [String: Any]? {
        for _ in 0..<100 {
            let json = try await reader.send("GET", "/v1/experience/sources/\(id)").json
            if condition(json) { return json }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func itemTitles(_ reader: Reader) async throws -> Set<String> {
        let list = try await reader.send("GET", "/v1/experience/items?limit=100")
        return Set((list.json["items"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String })
    }

    /// The titles in the catalogue once they are `expected` (articles arrive through the intake's jobs).
    func arrived(_ reader: Reader, _ expected: Set<String>) async throws -> Set<String> {
        _ = try await eventually { try await itemTitles(reader) == expected }
        return try await itemTitles(reader)
    }

    @Test("a followed feed is fetched at once into the catalogue; fetched again, only new articles are added, and an unchanged feed is 304")
    func follow() async throws {
        let feeds = try await server()
        let name = UUID().uuidString
        feeds.publish(name, items: ["One", "Two", "Three"])
        let reader = try await Reader.fresh(roles: ["member"])
        let created = try await add(reader, "\(feeds.url)/feeds/\(name)")
        #expect(created.status == 201, "\(created.json)")
        #expect(created.json["format"] as? String == "rss")
        #expect(created.json["title"] as? String == "Feed \(name)")
        #expect(created.json["userId"] as? String == reader.userKey)
        #expect(created.json["fetched"] as? Int == 1)
        #expect(try await arrived(reader, ["One", "Two", "Three"]) == ["One", "Two", "Three"])
        let id = created.json["id"] as? String ?? ""
        #expect(try await source(reader, id) { $0["itemsNew"] as? Int == 3 } != nil)
        let item = (try await reader.send("GET", "/v1/experience/items?limit=1").json["items"] as? [[String: Any]])?.first
        #expect(item?["provider"] as? String == "Feed \(name)")
        #expect(item?["categories"] as? [String] == ["news"])
        #expect(((item?["attributes"] as? [String: Any])?["url"] as? String)?.hasPrefix("\(feeds.url)/articles/\(name)/") == true)
        feeds.add("Four", to: name)
        #expect(try await reader.send("POST", "/v1/experience/sources/\(id)/fetch").status == 202)
        #expect(try await source(reader, id) { $0["fetched"] as? Int == 2 && $0["itemsNew"] as? Int == 4 } != nil)
        #expect(try await arrived(reader, ["One", "Two", "Three", "Four"]) == ["One", "Two", "Three", "Four"])
        #expect(try await reader.send("POST", "/v1/experience/sources/\(id)/fetch").status == 202)
        let unchanged = try #require(try await source(reader, id) { $0["notModified"] as? Int == 1 })
        #expect(unchanged["itemsNew"] as? Int == 4)
        #expect(unchanged["failures"] as? Int == 0)
    }

    @Test("a failing feed counts its failures, says why, and waits longer; the others are not held up")
    func failing() async throws {
        let feeds = try await server()
        let (bad, good) = (UUID().uuidString, UUID().uuidString)
        feeds.publish(bad, items: ["x"])
        feeds.publish(good, items: ["y"])
        let reader = try await Reader.fresh(roles: ["member"])
        let badID = try await add(reader, "\(feeds.url)/feeds/\(bad)").json["id"] as? String ?? ""
        let goodID = try await add(reader, "\(feeds.url)/feeds/\(good)").json["id"] as? String ?? ""
        feeds.fail(bad)
        feeds.add("z", to: good)
        #expect(try await reader.send("POST", "/v1/experience/sources/\(badID)/fetch").status == 202)
        #expect(try await reader.send("POST", "/v1/experience/sources/\(goodID)/fetch").status == 202)
        let failed = try #require(try await source(reader, badID) { $0["failures"] as? Int == 1 })
        #expect(failed["failed"] as? Int == 1)
        #expect(failed["lastError"] as? String == "the server answered HTTP 500")
        #expect(failed["state"] as? String == "active")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let raw = failed["nextFetchAt"] as? String ?? ""
        let next = formatter.date(from: raw) ?? ISO8601DateFormatter().date(from: raw) ?? .distantPast
        #expect(next > Date().addingTimeInterval(50 * 60), "backs off past the 30-minute interval")
        #expect(try await source(reader, goodID) { $0["itemsNew"] as? Int == 2 } != nil)
    }

    @Test("a blog page leads to the feed it names; a page without one is read as one article by its own metadata")
    func discovery() async throws {
        let feeds = try await server()
        let reader = try await Reader.fresh(roles: ["member"])
        let blog = try await add(reader, "\(feeds.url)/blog.html")
        #expect(blog.status == 201, "\(blog.json)")
        #expect(blog.json["url"] as? String == "\(feeds.url)/atom.xml")
        #expect(blog.json["format"] as? String == "atom")
        #expect(blog.json["siteUrl"] as? String == "\(feeds.url)/blog.html")
        let page = try await add(reader, "\(feeds.url)/page.html")
        #expect(page.status == 201, "\(page.json)")
        #expect(page.json["format"] as? String == "page")
        #expect(try await arrived(reader, ["Blog post", "A page & its story"]) == ["Blog post", "A page & its story"])
        let moved = try await add(reader, "\(feeds.url)/moved")
        #expect(moved.json["url"] as? String == "\(feeds.url)/atom.xml" || moved.status == 409)
    }

    @Test("what cannot be a source is 422 with the reason: no feed, broken, hanging, too big, redirected inside, looping, not http")
    func refused() async throws {
        let feeds = try await server()
        let reader = try await Reader.fresh(roles: ["member"])
        let cases: [(String, String)] = [
            ("\(feeds.url)/notes.txt", "neither a feed"),
            ("\(feeds.url)/broken.xml", "neither a feed"),
            ("\(feeds.url)/hang", "did not answer in time"),
            ("\(feeds.url)/huge.xml", "larger than"),
            ("\(feeds.url)/to-private", "10.20.30.40"),
            ("\(feeds.url)/loop", "redirects"),
            ("\(feeds.url)/feeds/nothing-here", "HTTP 404"),
            ("ftp://files.example/feed.xml", "absolute http(s) URL"),
            ("not a url", "absolute http(s) URL"),
        ]
        for (url, reason) in cases {
            let answer = try await add(reader, url)
            #expect(answer.status == 422, "\(url)")
            let error = (answer.json["errors"] as? [[String: Any]])?.first
            #expect(error?["field"] as? String == "url")
            #expect((error?["message"] as? String)?.contains(reason) == true, "\(url): \(error?["message"] ?? "")")
        }
        #expect(try await reader.send("POST", "/v1/experience/sources", json: [:]).status == 422)
        #expect(try await reader.send("POST", "/v1/experience/sources", raw: "{\"url\": ").status == 400)
        #expect((try await reader.send("GET", "/v1/experience/sources").json["items"] as? [Any])?.isEmpty == true)
    }

    @Test("a user's sources are theirs; the tenant's are everyone's and only admins add or remove them; other tenants see none")
    func ownership() async throws {
        let feeds = try await server()
        let name = UUID().uuidString
        feeds.publish(name, items: ["a"])
        let admin = try await Reader.fresh(roles: ["admin"])
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        let other = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        let mine = try await add(member, "\(feeds.url)/feeds/\(name)")
        #expect(mine.status == 201, "\(String(decoding: mine.body, as: UTF8.self))")
        #expect(try await add(member, "\(feeds.url)/feeds/\(name)").status == 409)
        #expect(try await add(member, "\(feeds.url)/atom.xml", tenantWide: true).status == 403)
        let shared = try await add(admin, "\(feeds.url)/atom.xml", tenantWide: true)
        #expect(shared.status == 201)
        #expect(shared.json["userId"] == nil)
        let mineID = mine.json["id"] as? String ?? ""
        let sharedID = shared.json["id"] as? String ?? ""
        let seen = Set(
            (try await other.send("GET", "/v1/experience/sources").json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(seen == [sharedID])
        #expect(try await other.send("GET", "/v1/experience/sources/\(mineID)").status == 404)
        #expect(try await other.send("DELETE", "/v1/experience/sources/\(mineID)").status == 404)
        #expect(try await member.send("DELETE", "/v1/experience/sources/\(sharedID)").status == 403)
        let stranger = try await Reader.fresh(roles: ["owner"])
        #expect(try await stranger.send("GET", "/v1/experience/sources/\(sharedID)").status == 404)
        #expect(try await stranger.send("POST", "/v1/experience/sources/\(sharedID)/fetch").status == 404)
        #expect(try await stranger.send("GET", "/v1/experience/sources/not-an-id").status == 404)
        #expect(try await member.send("DELETE", "/v1/experience/sources/\(mineID)").status == 204)
        #expect(try await admin.send("DELETE", "/v1/experience/sources/\(sharedID)").status == 204)
        #expect(try await member.send("GET", "/v1/experience/sources/\(mineID)").status == 404)
    }

    @Test("the same story from two sources lands in one cluster; another story in its own; items not from feeds have none")
    func sameStory() async throws {
        let feeds = try await server()
        let (first, second) = (UUID().uuidString, UUID().uuidString)
        let story =
            "The city council voted on Tuesday night to close the old harbour bridge to cars from March, after engineers found"
            + " corrosion in two of its four main cables and warned that repairs would take at least eighteen months to finish"
        feeds.publish(
            first, items: ["Harbour bridge to close|\(story)", "Library hours extended|The central library will open on Sundays from next month"])
        feeds.publish(
            second, items: ["Council shuts bridge to traffic|\(story.replacingOccurrences(of: "Tuesday night", with: "Tuesday")) and costs"])
        let reader = try await Reader.fresh(roles: ["member"])
        #expect(try await add(reader, "\(feeds.url)/feeds/\(first)").status == 201)
        #expect(try await add(reader, "\(feeds.url)/feeds/\(second)").status == 201)
        let titles: Set = ["Harbour bridge to close", "Library hours extended", "Council shuts bridge to traffic"]
        #expect(try await arrived(reader, titles) == titles)
        let items = try await reader.send("GET", "/v1/experience/items?limit=10").json["items"] as? [[String: Any]] ?? []
        let key = { (title: String) in items.first { $0["title"] as? String == title }?["key"] as? String ?? "" }
        // Clustered in the intake's last stage, just after the articles became items.
        let copy = key("Council shuts bridge to traffic")
        let clustered = try await eventually {
            try await reader.send("GET", "/v1/experience/items/\(copy)/same-story").json["clusterKey"] != nil
        }
        #expect(clustered)
        let bridge = try await reader.send("GET", "/v1/experience/items/\(key("Harbour bridge to close"))/same-story")
        #expect(bridge.status == 200)
        #expect((bridge.json["items"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Council shuts bridge to traffic"])
        let library = try await reader.send("GET", "/v1/experience/items/\(key("Library hours extended"))/same-story")
        #expect((library.json["items"] as? [Any])?.isEmpty == true)
        #expect(library.json["clusterKey"] as? String != bridge.json["clusterKey"] as? String)
        try await reader.item("hand-made")
        let plain = try await reader.send("GET", "/v1/experience/items/hand-made/same-story")
        #expect(plain.status == 200)
        #expect(plain.json["clusterKey"] == nil)
        let stranger = try await Reader.fresh()
        #expect(try await stranger.send("GET", "/v1/experience/items/\(key("Harbour bridge to close"))/same-story").status == 404)
    }

    @Test("a spam article is rejected on the way in; a long one is summarised in three sentences and scored")
    func quality() async throws {
        let feeds = try await server()
        let name = UUID().uuidString
        let long =
            "The council voted to close the bridge. Engineers found corrosion in the cables. Repairs take eighteen months. "
            + "Buses will use the ring road meanwhile. Shops near the bridge fear fewer visitors."
        feeds.publish(name, items: ["BUY NOW BEFORE IT IS GONE|Limited offer! Buy now and earn $500 a day. Act now!!!!", "Bridge closes|\(long)"])
        let reader = try await Reader.fresh(roles: ["member"])
        let created = try await add(reader, "\(feeds.url)/feeds/\(name)")
        #expect(try await source(reader, created.json["id"] as? String ?? "") { $0["itemsNew"] as? Int == 1 } != nil)
        let items = try await reader.send("GET", "/v1/experience/items?limit=10").json["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["title"] as? String } == ["Bridge closes"])
        let attributes = items.first?["attributes"] as? [String: Any]
        #expect(Summary.sentences(attributes?["summary"] as? String ?? "").count == 3)
        #expect((attributes?["quality"] as? Double ?? 0) >= Quality.threshold)
        #expect(attributes?["language"] as? String == "en")
    }
}
