import Foundation
import Persistence
import PostgresNIO

/// Query and click logs, and what the admin console reads from them.
struct AnalyticsStore: Sendable {
    let database: Database
    static let retentionDays = 90

    /// Lower case, single spaces: "Quokka  Food" and "quokka food" count as one query.
    static func normalise(_ text: String?) -> String {
        (text ?? "").lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Logs a search on the connection (and in the transaction) that ran it: one statement,
    /// one round trip, no transaction of its own.
    func logQuery(id: UUID, tenant: UUID, text: String?, results: Int, tookMs: Int, shown: [UUID], on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            WITH logged AS (
              INSERT INTO search.search_queries (id, tenant_id, query, results, took_ms, shown)
              VALUES (\(id), \(tenant), \(Self.normalise(text)), \(results), \(tookMs), \(shown))
              RETURNING tenant_id
            )
            INSERT INTO search.search_query_days (tenant_id, day) SELECT tenant_id, current_date FROM logged ON CONFLICT DO NOTHING
            """, logger: database.logger)
    }

    /// Records a click; false when the query is unknown (or another tenant's).
    func logClick(query: UUID, type: String, document: UUID, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            var logged = false
            for try await _ in try await connection.query(
                """
                INSERT INTO search.search_clicks (tenant_id, query_id, doc_type, doc_id, position)
                SELECT \(tenant), q.id, \(type), \(document), array_position(q.shown, \(document))
                FROM search.search_queries q WHERE q.id = \(query)
                RETURNING 1
                """, logger: database.logger)
            {
                logged = true
            }
            return logged
        }
    }

    struct QueryCount: Codable, Sendable, Equatable {
        var query: String
        var count: Int
    }

    struct Report: Codable, Sendable {
        var from: Date
        var to: Date
        var queries: Int
        var topQueries: [QueryCount]
        var zeroResultQueries: [QueryCount]
        /// Share of queries with at least one click.
        var clickThroughRate: Double
        /// Mean over clicked queries of 1 / rank of the first clicked result shown.
        var meanReciprocalRank: Double
    }

    func report(tenant: UUID, from: Date, to: Date) async throws -> Report {
        try await database.withTenant(tenant) { connection in
            func counts(_ zeroOnly: Bool) async throws -> [QueryCount] {
                var result: [QueryCount] = []
                for try await (query, count) in try await connection.query(
                    """
                    SELECT query, count(*)::int FROM search.search_queries
                    WHERE at >= \(from) AND at < \(to) AND query <> '' AND (NOT \(zeroOnly) OR results = 0)
                    GROUP BY query ORDER BY count(*) DESC, query LIMIT 20
                    """, logger: database.logger
                ).decode((String, Int).self) {
                    result.append(QueryCount(query: query, count: count))
                }
                return result
            }
            var totals = (0, 0, 0.0)
            for try await row in try await connection.query(
                """
                SELECT count(*)::int, count(c.first_position)::int, COALESCE(avg(1.0 / c.first_position), 0)::float8
                FROM search.search_queries q
                LEFT JOIN (SELECT query_id, min(position) AS first_position FROM search.search_clicks GROUP BY query_id) c ON c.query_id = q.id
                WHERE q.at >= \(from) AND q.at < \(to)
                """, logger: database.logger
            ).decode((Int, Int, Double).self) {
                totals = row
            }
            var clicked = 0
            for try await count in try await connection.query(
                """
                SELECT count(DISTINCT q.id)::int FROM search.search_queries q JOIN search.search_clicks c ON c.query_id = q.id
                WHERE q.at >= \(from) AND q.at < \(to)
                """, logger: database.logger
            ).decode(Int.self) {
                clicked = count
            }
            return Report(
                from: from, to: to, queries: totals.0, topQueries: try await counts(false), zeroResultQueries: try await counts(true),
                clickThroughRate: totals.0 == 0 ? 0 : Double(clicked) / Double(totals.0), meanReciprocalRank: totals.2)
        }
    }

    /// Deletes logs older than the retention, for every tenant: the prune job sets no
    /// tenant, so it goes tenant by tenant over the tenants that have old rows.
    func prune() async throws -> Int {
        let cutoff = Date().addingTimeInterval(-Double(Self.retentionDays) * 86400)
        var tenants: [UUID] = []
        for try await tenant in try await database.query(
            "SELECT DISTINCT tenant_id FROM search.search_query_days WHERE day < \(cutoff)::date", logger: database.logger
        ).decode(UUID.self) {
            tenants.append(tenant)
        }
        var deleted = 0
        for tenant in tenants {
            deleted += try await database.withTenant(tenant) { connection in
                var count = 0
                for try await _ in try await connection.query(
                    "DELETE FROM search.search_queries WHERE at < \(cutoff) RETURNING 1", logger: database.logger)
                {
                    count += 1
                }
                try await connection.query(
                    "DELETE FROM search.search_query_days WHERE tenant_id = \(tenant) AND day < \(cutoff)::date", logger: database.logger)
                return count
            }
        }
        return deleted
    }
}
