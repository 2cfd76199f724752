import Foundation
import TestSupport
import Testing

@testable import Experience

@Suite("experiments", .serialized)
struct ExperimentTests {
    let variants: [[String: Any]] = [
        ["name": "control", "weight": 1],
        [
            "name": "trending-first", "weight": 1, "ranking": ["freshness": 0.6],
            "sectionOrder": ["trending", "for_you", "continue_reading", "new_from_sources"],
        ],
    ]

    func sectionNames(_ home: HTTPAnswer) -> [String] {
        (home.json["sections"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }

    @Test("a running experiment gives each user one variant for its life, shapes their feed, and counts them in the results")
    func lifecycle() async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let created = try await admin.send("POST", "/v1/admin/experiments", json: ["name": "Order test", "variants": variants])
        #expect(created.status == 201)
        let id = try #require(created.string("id"))
        #expect(created.json["state"] as? String == "draft")
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(id)/start").json["state"] as? String == "running")
        var seen: [String: String] = [:]
        for _ in 0..<12 {
            let user = try await Reader.fresh(roles: ["viewer"], tenant: admin.tenant)
            let home = try await user.send("GET", "/v1/experience/home")
            let variant = try #require((home.json["experiment"] as? [String: Any])?["variant"] as? String)
            seen[user.userKey ?? ""] = variant
            if variant == "trending-first" {
                #expect(sectionNames(home) == ["trending", "for_you", "continue_reading", "new_from_sources"])
            } else {
                #expect(sectionNames(home) == ["continue_reading", "for_you", "trending", "new_from_sources"])
            }
            // The same user, the same variant, after the cache is gone too.
            try await admin.item("x-\(UUID().uuidString.prefix(6))")
            #expect((try await user.send("GET", "/v1/experience/home").json["experiment"] as? [String: Any])?["variant"] as? String == variant)
        }
        let results = try await admin.send("GET", "/v1/admin/experiments/\(id)/results")
        #expect(results.status == 200)
        let users = (results.json["variants"] as? [[String: Any]] ?? []).compactMap { $0["users"] as? Int }.reduce(0, +)
        #expect(users == 12)
        #expect((results.json["decision"] as? [String: Any])?["ready"] as? Bool == false)
        // One at a time; a running one is not deleted; a winner must be a variant.
        let second = try await admin.send("POST", "/v1/admin/experiments", json: ["name": "Another", "variants": variants])
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(second.string("id") ?? "")/start").status == 409)
        #expect(try await admin.send("DELETE", "/v1/admin/experiments/\(id)").status == 409)
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(id)/stop", json: ["winner": "nobody"]).status == 422)
        let stopped = try await admin.send("POST", "/v1/admin/experiments/\(id)/stop", json: ["winner": "control"])
        #expect(stopped.json["state"] as? String == "stopped")
        #expect(stopped.json["winner"] as? String == "control")
        #expect(try await admin.send("POST", "/v1/admin/experiments/\(id)/start").status == 409)
        let after = try await Reader.fresh(roles: ["viewer"], tenant: admin.tenant).send("GET", "/v1/experience/home")
        #expect(after.json["experiment"] == nil || after.json["experiment"] is NSNull)
        #expect(try await admin.send("DELETE", "/v1/admin/experiments/\(id)").status == 204)
    }

    @Test(
        "bad experiments are 422 naming the field",
        arguments: [
            #"{"name": "x", "variants": [{"name": "only", "weight": 1}]}"#,
            #"{"name": "x", "variants": [{"name": "a", "weight": 1}, {"name": "a", "weight": 1}]}"#,
            #"{"name": "x", "variants": [{"name": "a", "weight": 0}, {"name": "b", "weight": 1}]}"#,
            #"{"name": "x", "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "sectionOrder": ["trending"]}]}"#,
            #"{"name": "x", "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "ranking": {"affinity": 3}}]}"#,
            #"{"name": "", "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]}"#,
            #"{"name": "x", "variants": "many"}"#,
        ])
    func badExperiments(body: String) async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let answer = try await admin.send("POST", "/v1/admin/experiments", raw: body)
        #expect(answer.status == 422)
        #expect((try await admin.send("GET", "/v1/admin/experiments").json["items"] as? [Any])?.isEmpty == true)
    }

    @Test("experiments are for tenant admins, and another tenant's is 404")
    func access() async throws {
        let admin = try await Reader.fresh(roles: ["admin"])
        let id = try #require(try await admin.send("POST", "/v1/admin/experiments", json: ["name": "Mine", "variants": variants]).string("id"))
        let member = try await Reader.fresh(roles: ["member"], tenant: admin.tenant)
        #expect(try await member.send("GET", "/v1/admin/experiments").status == 403)
        let stranger = try await Reader.fresh(roles: ["admin"])
        #expect(try await stranger.send("GET", "/v1/admin/experiments/\(id)").status == 404)
        #expect(try await stranger.send("POST", "/v1/admin/experiments/\(id)/start").status == 404)
        #expect(try await stranger.send("DELETE", "/v1/admin/experiments/\(id)").status == 404)
        #expect(try await stranger.send("GET", "/v1/admin/experiments/not-a-uuid").status == 404)
        #expect(try await admin.send("POST", "/v1/admin/experiments", json: ["name": "mine", "variants": variants]).status == 409)
    }
}

@Suite("experiment statistics")
struct ExperimentStatisticsTests {
    @Test("assignment is fixed per user and splits users by the variants' weights")
    func assignment() {
        let experiment = Experiment(
            id: UUID(), name: "x", description: "", variants: [.init(name: "a", weight: 1), .init(name: "b", weight: 3)], state: .running,
            winner: nil, version: 1, createdAt: Date())
        let users = (0..<20_000).map { "user-\($0)" }
        let share = Double(users.filter { experiment.variant(for: $0)?.name == "a" }.count) / Double(users.count)
        #expect(abs(share - 0.25) < 0.015)
        #expect(users.prefix(100).allSatisfy { experiment.variant(for: $0) == experiment.variant(for: $0) })
    }

    @Test("Wilson's interval matches known values and stays within 0 and 1")
    func wilson() {
        let interval = ExperimentStatistics.wilson(10, 100)
        #expect(abs(interval.low - 0.0552) < 0.001)
        #expect(abs(interval.high - 0.1744) < 0.001)
        #expect(ExperimentStatistics.wilson(0, 50).low == 0)
        #expect(ExperimentStatistics.wilson(50, 50).high > 0.999_999)
        #expect(ExperimentStatistics.wilson(0, 0).value == 0)
    }

    @Test("the stop rule waits for enough users and for intervals that do not overlap")
    func stopRule() {
        func variant(_ name: String, users: Int, clicks: Int, views: Int) -> ExperimentResults.VariantResult {
            .init(
                name: name, users: users, views: views, clicks: clicks, saves: 0, ctr: ExperimentStatistics.wilson(clicks, views),
                savesPerUser: ExperimentStatistics.mean([], users: users))
        }
        #expect(
            ExperimentStatistics.decide([variant("a", users: 50, clicks: 500, views: 1000), variant("b", users: 500, clicks: 10, views: 1000)]).ready
                == false)
        let clear = ExperimentStatistics.decide([
            variant("a", users: 500, clicks: 300, views: 1000), variant("b", users: 500, clicks: 100, views: 1000),
        ])
        #expect(clear.ready && clear.leader == "a")
        let close = ExperimentStatistics.decide([
            variant("a", users: 500, clicks: 105, views: 1000), variant("b", users: 500, clicks: 100, views: 1000),
        ])
        #expect(!close.ready && close.leader == "a")
    }

    @Test("saves per user average over every exposed user, those without saves too")
    func savesPerUser() {
        let interval = ExperimentStatistics.mean([2, 0, 4], users: 4)
        #expect(interval.value == 1.5)
        #expect(interval.low < 1.5 && interval.high > 1.5)
    }
}
