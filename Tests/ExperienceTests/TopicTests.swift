import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite("topics: the tenant's taxonomy, articles labelled by it")
struct TopicTests {
    static let taxonomy = [
        Topic(key: "energy", name: "Energy", keywords: ["solar", "tidal", "power station", "wind farm", "grid"], version: 1),
        Topic(key: "transport", name: "Transport", keywords: ["ferry", "bus", "train", "bridge", "ring road"], version: 1),
        Topic(key: "city", name: "City", keywords: ["council", "city", "bridge", "mayor"], version: 1),
    ]

    @Test("several labels with scores, best first; a word every topic names counts for little; unrelated text gets none")
    func classify() {
        let classifier = TopicClassifier(Self.taxonomy)
        let labels = classifier.classify("The tidal power station opened; the council says the grid needs a second power station.")
        #expect(labels.first?.key == "energy")
        #expect(labels.map(\.key).contains("city"))
        #expect(labels.allSatisfy { (TopicClassifier.threshold...1).contains($0.score) })
        #expect(classifier.classify("The ferry and the bus replace the train while the ring road is built").map(\.key) == ["transport"])
        #expect(classifier.classify("A recipe for winter soup with leeks").isEmpty)
        #expect(TopicClassifier([]).classify("anything").isEmpty)
    }

    @Test("admins keep the taxonomy: create, replace with If-Match, list, delete; bad topics are 422; members 403; other tenants see none")
    func crud() async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let created = try await admin.send(
            "PUT", "/v1/admin/experience/topics/energy", json: ["name": "Energy", "keywords": ["Solar", "solar", "Power Station"]])
        #expect(created.status == 201, "\(created.json)")
        #expect(created.json["keywords"] as? [String] == ["solar", "power station"])
        #expect(
            try await admin.send(
                "PUT", "/v1/admin/experience/topics/energy", json: ["name": "E", "keywords": ["x"]], headers: ["If-Match": "\"v9\""]
            ).status == 412)
        let replaced = try await admin.send(
            "PUT", "/v1/admin/experience/topics/energy", json: ["name": "Energy", "keywords": ["wind"]], headers: ["If-Match": "\"v1\""])
        #expect(replaced.status == 200)
        #expect(replaced.json["version"] as? Int == 2)
        for (key, body, field) in [
            ("Energy", ["name": "x", "keywords": ["a"]] as [String: Any], "key"), ("e!", ["name": "x", "keywords": ["a"]], "key"),
            ("ok", ["name": "", "keywords": ["a"]], "name"), ("ok", ["name": "x", "keywords": []], "keywords"),
            ("ok", ["name": "x", "keywords": ["!!!"]], "keywords"),
            ("ok", ["name": "x"], "keywords"),
        ] {
            let answer = try await admin.send("PUT", "/v1/admin/experience/topics/\(key)", json: body)
            #expect(answer.status == 422, "\(key) \(body)")
            #expect((answer.json["errors"] as? [[String: Any]])?.contains { $0["field"] as? String == field } == true, "\(key) \(body)")
        }
        #expect(try await admin.send("PUT", "/v1/admin/experience/topics/ok", raw: "{\"name\": ").status == 400)
        #expect(
            (try await admin.send("GET", "/v1/admin/experience/topics").json["items"] as? [[String: Any]])?.compactMap { $0["key"] as? String } == [
                "energy"
            ])
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        #expect(try await member.send("GET", "/v1/admin/experience/topics").status == 403)
        #expect(try await member.send("PUT", "/v1/admin/experience/topics/x", json: ["name": "x", "keywords": ["a"]]).status == 403)
        let stranger = try await Reader.fresh(roles: ["owner"])
        #expect((try await stranger.send("GET", "/v1/admin/experience/topics").json["items"] as? [Any])?.isEmpty == true)
        #expect(try await stranger.send("DELETE", "/v1/admin/experience/topics/energy").status == 404)
        #expect(try await admin.send("DELETE", "/v1/admin/experience/topics/energy").status == 204)
        #expect(try await admin.send("DELETE", "/v1/admin/experience/topics/energy").status == 404)
    }

    @Test("articles that arrive after the taxonomy is set carry its labels")
    func labelled() async throws {
        let feeds = try await FeedServer.shared.value()
        let name = UUID().uuidString
        feeds.publish(name, items: ["Tidal power station opens|The tidal power station feeds the grid of the whole city from today on."])
        let admin = try await Reader.fresh(roles: ["admin"])
        for topic in Self.taxonomy {
            #expect(
                try await admin.send("PUT", "/v1/admin/experience/topics/\(topic.key)", json: ["name": topic.name, "keywords": topic.keywords]).status
                    == 201)
        }
        #expect(try await admin.send("POST", "/v1/experience/sources", json: ["url": "\(feeds.url)/feeds/\(name)"]).status == 201)
        let arrived = try await eventually {
            (try await admin.send("GET", "/v1/experience/items?limit=1").json["items"] as? [Any])?.isEmpty == false
        }
        #expect(arrived)
        let item = (try await admin.send("GET", "/v1/experience/items?limit=1").json["items"] as? [[String: Any]])?.first
        #expect((item?["topics"] as? [String])?.first == "energy")
    }
}
