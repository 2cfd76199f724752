import Foundation
import Persistence
import PostgresNIO

/// What "for you" showed, with the features each item was ranked by: the learned reranker's
/// training data.
struct ImpressionStore: Sendable {
    let database: Database
    /// How far back a training looks, and how long impressions are kept.
    static let keptDays = 14
    /// An engagement this long after an impression counts for it.
    static let engagementWindow: TimeInterval = 86400
    /// At most this many impressions per training.
    static let trainingLimit = 500_000

    struct Impression: Sendable {
        var user: String
        var item: String
        var shownAt: Date
        var features: RankingFeatures
    }

    func record(_ impressions: [Impression], tenant: UUID) async throws {
        guard !impressions.isEmpty else { return }
        let flat = impressions.flatMap { $0.features.vector.map(Float.init) }
        let width = RankingFeatures.names.count
        _ = try await database.withTenant(tenant) { connection in
            // Row n takes the n-th `width` floats of the flat array.
            try await connection.query(
                """
                INSERT INTO experience.impressions (tenant_id, user_key, item_key, shown_at, features)
                SELECT \(tenant), t.user_key, t.item_key, t.shown_at, (\(flat)::real[])[(t.n - 1) * \(width) + 1 : t.n * \(width)]
                FROM unnest(\(impressions.map(\.user))::text[], \(impressions.map(\.item))::text[], \(impressions.map(\.shownAt))::timestamptz[])
                  WITH ORDINALITY AS t(user_key, item_key, shown_at, n)
                """, logger: database.logger)
        }
    }

    /// Forgets every tenant's impressions older than `keptDays`.
    func forgetOld() async throws {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'impressions', true)", logger: database.logger)
            try await connection.query(
                "DELETE FROM experience.impressions WHERE shown_at < now() - interval '14 days'", logger: database.logger)
        }
    }

    /// Training pairs: within each feed shown (user and time), every item the user then
    /// engaged with (opened, liked, saved, shared, or read half of) against every one they did
    /// not. Also how many users and items they span.
    func trainingPairs(tenant: UUID, now: Date) async throws -> (pairs: [(better: RankingFeatures, worse: RankingFeatures)], users: Int, items: Int) {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT m.user_key, m.shown_at, m.item_key, m.features::float8[],
                  EXISTS (
                    SELECT 1 FROM experience.interactions x
                    WHERE x.tenant_id = m.tenant_id AND x.user_key = m.user_key AND x.item_key = m.item_key
                      AND x.occurred_at >= m.shown_at AND x.occurred_at < m.shown_at + \(Self.engagementWindow) * interval '1 second'
                      AND (x.kind IN ('click', 'like', 'save', 'share') OR (x.kind = 'progress' AND x.progress >= 50)))
                FROM experience.impressions m
                WHERE m.tenant_id = \(tenant) AND m.shown_at > \(now.addingTimeInterval(-Double(Self.keptDays) * 86400))
                ORDER BY m.user_key, m.shown_at
                LIMIT \(Self.trainingLimit)
                """, logger: database.logger)
            var pairs: [(better: RankingFeatures, worse: RankingFeatures)] = []
            var users: Set<String> = []
            var items: Set<String> = []
            var feed: (user: String, at: Date)?
            var engaged: [RankingFeatures] = []
            var ignored: [RankingFeatures] = []
            func close() {
                for better in engaged { for worse in ignored { pairs.append((better, worse)) } }
                engaged = []
                ignored = []
            }
            for try await (user, at, item, vector, hit) in rows.decode((String, Date, String, [Double], Bool).self) {
                if feed?.user != user || feed?.at != at {
                    close()
                    feed = (user, at)
                }
                guard let features = RankingFeatures(vector) else { continue }
                users.insert(user)
                items.insert(item)
                if hit { engaged.append(features) } else { ignored.append(features) }
            }
            close()
            return (pairs, users.count, items.count)
        }
    }
}
