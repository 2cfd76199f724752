import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// What the home feed reads: the user's recent log, and each section's candidates, one
/// query apiece (seed PERF-002).
struct FeedStore: Sendable {
    let database: Database
    /// How far back a profile and "continue reading" look, and at most how many interactions.
    static let profileDays = 90
    static let profileLimit = 1000
    /// How many candidates a section ranks.
    static let candidates = 300

    static let itemColumns = ItemStore.columns.split(separator: ",").map { "i." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .joined(separator: ", ")

    func profile(user: String, tenant: UUID, now: Date, timeZone: TimeZone = .gmt) async throws -> UserProfile {
        try await profiles(users: [user], tenant: tenant, now: now, timeZone: timeZone)[user]
            ?? UserProfile(entries: [], now: now, timeZone: timeZone)
    }

    /// Several users' profiles in one query (a digest batch): each from their own latest interactions.
    func profiles(users: [String], tenant: UUID, now: Date, timeZone: TimeZone = .gmt) async throws -> [String: UserProfile] {
        try await database.withTenant(tenant) { connection in
            var entries: [String: [UserProfile.Entry]] = [:]
            for try await (user, item, kind, progress, at, title, categories, provider) in try await connection.query(
                """
                SELECT u.user_key, r.item_key, r.kind, r.progress::int, r.occurred_at, i.title, coalesce(i.categories, '{}'), i.provider
                FROM unnest(\(users)::text[]) AS u(user_key)
                CROSS JOIN LATERAL (
                  SELECT item_key, kind, progress, occurred_at FROM experience.interactions
                  WHERE tenant_id = \(tenant) AND user_key = u.user_key
                    AND occurred_at > \(now.addingTimeInterval(-Double(Self.profileDays) * 86400))
                  ORDER BY occurred_at DESC LIMIT \(Self.profileLimit)
                ) r
                LEFT JOIN experience.items i ON i.tenant_id = \(tenant) AND i.key = r.item_key
                ORDER BY u.user_key, r.occurred_at DESC
                """, logger: database.logger
            ).decode((String, String, String, Int?, Date, String?, [String], String?).self) {
                guard let kind = InteractionKind(rawValue: kind) else { continue }
                entries[user, default: []].append(
                    .init(itemKey: item, kind: kind, progress: progress, occurredAt: at, title: title, categories: categories, provider: provider))
            }
            return Dictionary(uniqueKeysWithValues: users.map { ($0, UserProfile(entries: entries[$0] ?? [], now: now, timeZone: timeZone)) })
        }
    }

    func items(_ keys: [String], tenant: UUID) async throws -> [String: Item] {
        guard !keys.isEmpty else { return [:] }
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: ItemStore.columns) FROM experience.items WHERE tenant_id = \(tenant) AND key = ANY(\(keys))",
                logger: database.logger)
            return Dictionary(uniqueKeysWithValues: try await ItemStore.items(rows).map { ($0.key, $0) })
        }
    }

    /// The tenant's click-through rate over every item: the popularity prior.
    func tenantCTR(tenant: UUID) async throws -> Double {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                SELECT CASE WHEN sum(views) > 0 THEN sum(clicks)::float8 / sum(views) ELSE 0 END
                FROM experience.item_totals WHERE tenant_id = \(tenant)
                """, logger: database.logger
            ).collect().first.map { try $0.decode(Double.self) } ?? 0
        }
    }

    /// Recent active items in `categories` (any, for a user with no history), newest first,
    /// with their totals.
    func forYouCandidates(categories: [String]?, tenant: UUID, now: Date) async throws -> [Candidate] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.itemColumns), coalesce(t.clicks, 0)::int, coalesce(t.views, 0)::int, f.version, f.factors
                FROM experience.items i
                LEFT JOIN experience.item_totals t ON t.tenant_id = i.tenant_id AND t.item_key = i.key
                LEFT JOIN experience.item_factors f ON f.tenant_id = i.tenant_id AND f.item_key = i.key
                WHERE i.tenant_id = \(tenant) AND i.status = 'active'
                  AND (\(categories == nil) OR i.categories && \(categories ?? [])::text[])
                  AND i.published_at > \(now.addingTimeInterval(-30 * 86400))
                ORDER BY i.published_at DESC NULLS LAST
                LIMIT \(Self.candidates)
                """, logger: database.logger)
            var candidates: [Candidate] = []
            for try await (a, b, c, d, e, f, g, h, i, j, k, l, m, clicks, views, version, factors) in rows.decode(
                (String, String, String, [String], [String], String?, String?, Date?, String, String, Int, Date, Date, Int, Int, Int64?, [Float]?)
                    .self)
            {
                candidates.append(
                    Candidate(
                        item: ItemStore.item((a, b, c, d, e, f, g, h, i, j, k, l, m)), clicks: clicks, views: views,
                        factors: version.flatMap { version in factors.map { Factors(version: version, values: $0) } }))
            }
            return candidates
        }
    }

    /// Active items by engagement over the last 24 hours.
    func trendingCandidates(tenant: UUID, now: Date) async throws -> [Candidate] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                WITH recent AS (
                  SELECT item_key, sum(views)::int AS views, sum(clicks)::int AS clicks,
                         (sum(views) + 2 * sum(clicks) + 4 * sum(likes) + 5 * sum(saves) + 5 * sum(shares) - 4 * sum(dismissals))::float8 AS engagement
                  FROM experience.item_counts
                  WHERE tenant_id = \(tenant) AND hour > \(CountBucket.hour(of: now).addingTimeInterval(-24 * 3600))
                  GROUP BY item_key
                  ORDER BY 4 DESC
                  LIMIT \(Self.candidates)
                )
                SELECT \(unescaped: Self.itemColumns), r.clicks, r.views, r.engagement
                FROM recent r JOIN experience.items i ON i.tenant_id = \(tenant) AND i.key = r.item_key
                WHERE i.status = 'active' AND r.engagement > 0
                ORDER BY r.engagement DESC
                """, logger: database.logger)
            var candidates: [Candidate] = []
            for try await (a, b, c, d, e, f, g, h, i, j, k, l, m, clicks, views, engagement) in rows.decode(
                (String, String, String, [String], [String], String?, String?, Date?, String, String, Int, Date, Date, Int, Int, Double).self)
            {
                candidates.append(
                    Candidate(item: ItemStore.item((a, b, c, d, e, f, g, h, i, j, k, l, m)), clicks: clicks, views: views, engagement: engagement))
            }
            return candidates
        }
    }

    /// The newest active items of `providers` from the last 7 days.
    func sourceCandidates(providers: [String], tenant: UUID, now: Date) async throws -> [Candidate] {
        guard !providers.isEmpty else { return [] }
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: ItemStore.columns) FROM experience.items
                WHERE tenant_id = \(tenant) AND status = 'active' AND provider = ANY(\(providers))
                  AND published_at > \(now.addingTimeInterval(-7 * 86400))
                ORDER BY published_at DESC
                LIMIT \(Self.candidates)
                """, logger: database.logger)
            return try await ItemStore.items(rows).map { Candidate(item: $0, clicks: 0, views: 0) }
        }
    }
}

extension FeedStore {
    /// How many of an item's latest readers its neighbours are found through.
    static let neighbourReaders = 2000

    /// Items the readers of `key` also interacted with (not dismissed), with how many of
    /// them did, and how many readers there were; last 90 days.
    func neighbours(of key: String, tenant: UUID, now: Date) async throws -> (candidates: [(Item, together: Int)], readers: Int) {
        let since = now.addingTimeInterval(-Double(Self.profileDays) * 86400)
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                WITH readers AS (
                  SELECT DISTINCT user_key FROM (
                    SELECT user_key FROM experience.interactions
                    WHERE tenant_id = \(tenant) AND item_key = \(key) AND kind <> 'dismiss' AND occurred_at > \(since)
                    ORDER BY occurred_at DESC LIMIT \(Self.neighbourReaders)) latest
                ), together AS (
                  SELECT x.item_key, count(DISTINCT x.user_key)::int AS together
                  FROM experience.interactions x JOIN readers r ON r.user_key = x.user_key
                  WHERE x.tenant_id = \(tenant) AND x.item_key <> \(key) AND x.kind <> 'dismiss' AND x.occurred_at > \(since)
                  GROUP BY x.item_key
                  ORDER BY 2 DESC, 1
                  LIMIT 100
                )
                SELECT \(unescaped: Self.itemColumns), t.together, (SELECT count(*)::int FROM readers)
                FROM together t JOIN experience.items i ON i.tenant_id = \(tenant) AND i.key = t.item_key
                WHERE i.status = 'active'
                ORDER BY t.together DESC, i.key
                """, logger: database.logger)
            var candidates: [(Item, together: Int)] = []
            var readers = 0
            for try await (a, b, c, d, e, f, g, h, i, j, k, l, m, together, count) in rows.decode(
                (String, String, String, [String], [String], String?, String?, Date?, String, String, Int, Date, Date, Int, Int).self)
            {
                candidates.append((ItemStore.item((a, b, c, d, e, f, g, h, i, j, k, l, m)), together))
                readers = count
            }
            return (candidates, readers)
        }
    }

    /// The newest active items sharing a category with the item, for when few readers link it.
    func sameCategories(_ categories: [String], except key: String, tenant: UUID) async throws -> [Item] {
        guard !categories.isEmpty else { return [] }
        return try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: ItemStore.columns) FROM experience.items
                WHERE tenant_id = \(tenant) AND status = 'active' AND key <> \(key) AND categories && \(categories)::text[]
                ORDER BY published_at DESC NULLS LAST
                LIMIT 50
                """, logger: database.logger)
            return try await ItemStore.items(rows)
        }
    }
}
