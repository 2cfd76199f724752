import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Search

func searchAs(_ method: String, _ path: String, json: Any? = nil, tenant: UUID, roles: [String] = ["owner"]) async throws -> HTTPAnswer {
    let (url, issuer) = try await SearchServer.shared.get()
    return try await TestHTTP.send(method, "\(url)\(path)", json: json, token: try await issuer.token(tenant: tenant, roles: roles))
}

@Suite("search analytics")
struct AnalyticsTests {
    @Test("queries and clicks give top queries, zero-result queries, click-through rate and mean reciprocal rank")
    func report() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "Feed the quokka"), try task(tenant, "Quokka photos"), try task(tenant, "Buy milk")])
        let first = try await search("q=Quokka", tenant: tenant)
        let second = try await search("q=quokka", tenant: tenant)
        _ = try await search("q=zebra%20crossing", tenant: tenant)
        let hits = try #require(second.json["hits"] as? [[String: Any]])
        let secondHit = try #require(hits.last?["id"] as? String)
        let click = try await searchAs(
            "POST", "/v1/search/clicks", json: ["queryId": try #require(second.string("queryId")), "type": "task", "id": secondHit], tenant: tenant)
        #expect(click.status == 204)
        _ = first
        let report = try await searchAs("GET", "/v1/admin/search/analytics", tenant: tenant)
        #expect(report.status == 200)
        #expect(report.json["queries"] as? Int == 3)
        let top = try #require(report.json["topQueries"] as? [[String: Any]])
        #expect(top.first?["query"] as? String == "quokka")
        #expect(top.first?["count"] as? Int == 2)
        #expect((report.json["zeroResultQueries"] as? [[String: Any]])?.first?["query"] as? String == "zebra crossing")
        #expect(abs((report.json["clickThroughRate"] as? Double ?? 0) - 1.0 / 3.0) < 0.001)
        #expect(report.json["meanReciprocalRank"] as? Double == 0.5)
    }

    @Test("a click on another tenant's query, bad input and members are refused")
    func refusals() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "Feed the quokka")])
        let queryID = try #require(try await search("q=quokka", tenant: tenant).string("queryId"))
        let stranger = UUID.v7()
        #expect(
            try await searchAs("POST", "/v1/search/clicks", json: ["queryId": queryID, "type": "task", "id": UUID().uuidString], tenant: stranger)
                .status == 422)
        #expect(
            try await searchAs("POST", "/v1/search/clicks", json: ["queryId": queryID, "type": "planet", "id": UUID().uuidString], tenant: tenant)
                .status == 422)
        #expect(try await searchAs("POST", "/v1/search/clicks", json: ["queryId": "nope"], tenant: tenant).status == 422)
        #expect(try await searchAs("GET", "/v1/admin/search/analytics", tenant: tenant, roles: ["member"]).status == 403)
        #expect(try await searchAs("GET", "/v1/admin/search/analytics?from=yesterday", tenant: tenant).status == 422)
        #expect(
            try await searchAs("GET", "/v1/admin/search/analytics?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", tenant: tenant).status == 422)
        #expect((try await searchAs("GET", "/v1/admin/search/analytics", tenant: stranger)).json["queries"] as? Int == 0)
    }

    @Test("the prune job deletes query logs older than 90 days and keeps recent ones")
    func prune() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "Feed the quokka")])
        _ = try await search("q=old", tenant: tenant)
        _ = try await search("q=recent", tenant: tenant)
        try await withDatabase("search") { database in
            try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "UPDATE search.search_queries SET at = now() - interval '91 days' WHERE query = 'old'", logger: database.logger)
                try await connection.query(
                    "INSERT INTO search.search_query_days (tenant_id, day) VALUES (\(tenant), current_date - 91) ON CONFLICT DO NOTHING",
                    logger: database.logger)
            }
            _ = try await AnalyticsStore(database: database).prune()
        }
        let since = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-100 * 86400))
        let report = try await searchAs("GET", "/v1/admin/search/analytics?from=\(since)", tenant: tenant)
        #expect(report.status == 200)
        #expect((report.json["topQueries"] as? [[String: Any]])?.compactMap { $0["query"] as? String } == ["recent"])
    }
}
