import Foundation
import TestSupport
import Testing

@Suite("collaborative model")
struct ModelTests {
    func event(_ user: String, _ item: String, _ kind: String = "like") -> [String: Any] {
        ["eventId": UUID().uuidString, "userId": user, "itemKey": item, "kind": kind, "occurredAt": stamp(Date().addingTimeInterval(-600))]
    }

    /// Twelve uncategorised items published together, read by two crowds: "a" readers read
    /// a-0…a-4, "b" readers b-0…b-4; a-5 and b-5 nobody read.
    func twoCrowds() async throws -> (admin: Reader, writer: Reader) {
        let admin = try await Reader.fresh(roles: ["owner"])
        let published = stamp(Date().addingTimeInterval(-3600))
        let items = ["a", "b"].flatMap { crowd in (0..<6).map { ["key": "\(crowd)-\($0)", "title": "Story \(crowd)\($0)", "publishedAt": published] }
        }
        #expect(try await admin.send("POST", "/v1/experience/items/bulk", json: ["items": items]).status == 200)
        let writer = try await Reader.client(scope: "experience:write experience:read", tenant: admin.tenant)
        var events: [[String: Any]] = []
        for crowd in ["a", "b"] {
            for reader in 0..<8 { events += (0..<5).map { event("\(crowd)-reader-\(reader)", "\(crowd)-\($0)") } }
        }
        let answer = try await writer.send("POST", "/v1/experience/events", json: ["events": events])
        #expect(answer.json["accepted"] as? Int == events.count, "\(answer.json)")
        return (admin, writer)
    }

    func trained(_ admin: Reader, _ kind: String = "als", after version: Int = 0) async throws -> [String: Any]? {
        for _ in 0..<100 {
            let models = try await admin.send("GET", "/v1/admin/experience/models")
            if let model = (models.json["items"] as? [[String: Any]])?.first(where: { $0["kind"] as? String == kind }),
                (model["version"] as? Int ?? 0) > version
            {
                return model
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test("a training on demand learns who reads alike; a like-minded reader's feed ranks their crowd's items first, saying why")
    func likeMinded() async throws {
        let (admin, writer) = try await twoCrowds()
        // The newcomer read three of the a crowd's items.
        let newcomer = (0..<3).map { event("newcomer", "a-\($0)") }
        #expect(try await writer.send("POST", "/v1/experience/events", json: ["events": newcomer]).status == 200)
        let requested = try await admin.send("POST", "/v1/admin/experience/models/als/trainings")
        #expect(requested.status == 202, "\(requested.json)")
        #expect(requested.headers["location"]?.hasPrefix("/v1/admin/experience/jobs/") == true)
        let model = try #require(try await trained(admin))
        #expect(model["kind"] as? String == "als")
        #expect(model["users"] as? Int == 17)
        #expect(model["items"] as? Int == 10)
        #expect(model["interactions"] as? Int == 83)
        let home = try await writer.send("GET", "/v1/experience/home?userId=newcomer")
        let forYou =
            (home.json["sections"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "for_you" }?["items"] as? [[String: Any]] ?? []
        let keys = forYou.compactMap { ($0["item"] as? [String: Any])?["key"] as? String }
        // a-3 and a-4: what the a crowd read and the newcomer has not; the b crowd's after them.
        #expect(Set(keys.prefix(2)) == ["a-3", "a-4"], "\(keys)")
        #expect(
            forYou.first?["reason"] as? String == "readers with tastes like yours read this",
            "\(forYou.map { ($0["score"] ?? 0, $0["reason"] ?? "") })")
        let b = try #require(keys.firstIndex { $0.hasPrefix("b-") })
        #expect(b >= 2)
    }

    @Test("a second training replaces the model under the next version")
    func retraining() async throws {
        let (admin, _) = try await twoCrowds()
        #expect(try await admin.send("POST", "/v1/admin/experience/models/als/trainings").status == 202)
        let first = try #require(try await trained(admin))
        let version = first["version"] as? Int ?? 0
        #expect(try await admin.send("POST", "/v1/admin/experience/models/als/trainings").status == 202)
        let second = try #require(try await trained(admin, "als", after: version))
        #expect(second["version"] as? Int == version + 1)
        #expect(second["users"] as? Int == 16)
    }

    @Test("the reranker learns from what \"for you\" showed and what users then opened; an experiment's learned variant ranks by it")
    func reranker() async throws {
        let (admin, writer) = try await twoCrowds()
        #expect(try await admin.send("POST", "/v1/admin/experience/models/als/trainings").status == 202)
        #expect(try await trained(admin) != nil)
        // Six readers are shown their feeds, then open the first item shown to them.
        var opened: [[String: Any]] = []
        for reader in 0..<6 {
            let home = try await writer.send("GET", "/v1/experience/home?userId=a-reader-\(reader)")
            #expect(home.json["ranking"] as? String == "heuristic")
            let forYou = (home.json["sections"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "for_you" }?["items"] as? [[String: Any]]
            let first = try #require(forYou?.first?["item"] as? [String: Any])
            #expect(forYou?.first?["features"] == nil, "features are logged, not sent")
            opened.append(event("a-reader-\(reader)", first["key"] as? String ?? "", "click"))
        }
        // After the impressions are written (once a second) and in a later second than they were shown.
        try await Task.sleep(for: .milliseconds(2100))
        opened = opened.map { event in
            var event = event
            event["occurredAt"] = stamp()
            return event
        }
        #expect(try await writer.send("POST", "/v1/experience/events", json: ["events": opened]).status == 200)
        let requested = try await admin.send("POST", "/v1/admin/experience/models/reranker/trainings")
        #expect(requested.status == 202, "\(requested.json)")
        let card = try #require(try await trained(admin, "reranker"))
        #expect(card["users"] as? Int == 6)
        #expect((card["interactions"] as? Int ?? 0) >= 6)
        let parameters = card["parameters"] as? [String: Any]
        #expect((parameters?["weights"] as? [String: Any])?.keys.sorted() == ["affinity", "collaborative", "freshness", "popularity", "timeOfDay"])
        #expect(parameters?["accuracy"] is Double)
        // Everyone in the learned variant (the control's share is negligible).
        let experiment = try await admin.send(
            "POST", "/v1/admin/experiments",
            json: [
                "name": "learned ranking",
                "variants": [["name": "learned", "weight": 100, "algorithm": "learned"], ["name": "control", "weight": 0.000001]],
            ])
        #expect(experiment.status == 201, "\(experiment.json)")
        let id = experiment.json["id"] as? String ?? ""
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(id)/start").status == 200)
        let home = try await writer.send("GET", "/v1/experience/home?userId=b-reader-0")
        #expect((home.json["experiment"] as? [String: Any])?["variant"] as? String == "learned")
        #expect(home.json["ranking"] as? String == "learned")
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(id)/stop").status == 200)
        let bad = try await admin.send(
            "POST", "/v1/admin/experiments",
            json: ["name": "bad", "variants": [["name": "x", "weight": 1, "algorithm": "magic"], ["name": "y", "weight": 1]]])
        #expect(bad.status == 422)
        #expect((bad.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "variants[0].algorithm")
    }

    @Test("models are the tenant admin's business, and the tenant's own")
    func access() async throws {
        let (admin, _) = try await twoCrowds()
        #expect(try await admin.send("POST", "/v1/admin/experience/models/als/trainings").status == 202)
        #expect(try await trained(admin) != nil)
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        #expect(try await member.send("GET", "/v1/admin/experience/models").status == 403)
        #expect(try await member.send("POST", "/v1/admin/experience/models/als/trainings").status == 403)
        let stranger = try await Reader.fresh(roles: ["owner"])
        let theirs = try await stranger.send("GET", "/v1/admin/experience/models")
        #expect(theirs.status == 200)
        #expect((theirs.json["items"] as? [Any])?.isEmpty == true)
        #expect(try await stranger.send("POST", "/v1/admin/experience/models/svd/trainings").status == 404)
    }
}
