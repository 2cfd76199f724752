import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The item counters' SQL: hourly buckets and all-time totals, changed by the same
/// transaction that records (or repairs) what they count.
struct CounterStore: Sendable {
    let database: Database

    /// Adds `deltas` (never negative) to the buckets and the items' totals.
    func add(_ deltas: [(CountBucket, Counts)], tenant: UUID, on connection: PostgresConnection) async throws {
        guard !deltas.isEmpty else { return }
        let batch = String(decoding: try PlatformJSON.encoder.encode(deltas.map(Row.init)), as: UTF8.self)
        try await connection.query(
            """
            WITH d AS (
              SELECT * FROM jsonb_to_recordset(\(batch)::jsonb)
                AS x(item_key text, hour timestamptz, views int, clicks int, likes int, saves int, shares int, dismissals int)
            ), buckets AS (
              INSERT INTO experience.item_counts AS c (tenant_id, item_key, hour, views, clicks, likes, saves, shares, dismissals)
              SELECT \(tenant), item_key, hour, views, clicks, likes, saves, shares, dismissals FROM d ORDER BY item_key, hour
              ON CONFLICT (tenant_id, item_key, hour) DO UPDATE SET
                views = c.views + EXCLUDED.views, clicks = c.clicks + EXCLUDED.clicks, likes = c.likes + EXCLUDED.likes,
                saves = c.saves + EXCLUDED.saves, shares = c.shares + EXCLUDED.shares, dismissals = c.dismissals + EXCLUDED.dismissals
            )
            INSERT INTO experience.item_totals AS t (tenant_id, item_key, views, clicks, likes, saves, shares, dismissals)
            SELECT \(tenant), item_key, sum(views), sum(clicks), sum(likes), sum(saves), sum(shares), sum(dismissals)
            FROM d GROUP BY item_key ORDER BY item_key
            ON CONFLICT (tenant_id, item_key) DO UPDATE SET
              views = t.views + EXCLUDED.views, clicks = t.clicks + EXCLUDED.clicks, likes = t.likes + EXCLUDED.likes,
              saves = t.saves + EXCLUDED.saves, shares = t.shares + EXCLUDED.shares, dismissals = t.dismissals + EXCLUDED.dismissals
            """, logger: database.logger)
        // Seen by the reconciliation job; written at most hourly per tenant, so not a hot row.
        try await connection.query(
            """
            INSERT INTO experience.counted_tenants (tenant_id) VALUES (\(tenant))
            ON CONFLICT (tenant_id) DO UPDATE SET last_activity = now()
              WHERE experience.counted_tenants.last_activity < now() - interval '1 hour'
            """, logger: database.logger)
    }

    /// One delta as `jsonb_to_recordset` reads it.
    struct Row: Encodable {
        var item_key: String
        var hour: Date
        var views, clicks, likes, saves, shares, dismissals: Int

        init(_ delta: (CountBucket, Counts)) {
            item_key = delta.0.itemKey
            hour = delta.0.hour
            views = delta.1.views
            clicks = delta.1.clicks
            likes = delta.1.likes
            saves = delta.1.saves
            shares = delta.1.shares
            dismissals = delta.1.dismissals
        }
    }

    /// An item's windows and smoothed CTR; counts of an item nobody touched are zero.
    func counters(_ itemKey: String, tenant: UUID, now: Date = Date()) async throws -> ItemCounters {
        let hour = CountBucket.hour(of: now)
        return try await database.withTenant(tenant) { connection in
            var windows = [Counts(), Counts(), Counts()]
            for try await (start, views, clicks, likes, saves, shares, dismissals) in try await connection.query(
                """
                SELECT hour, views, clicks, likes, saves, shares, dismissals FROM experience.item_counts
                WHERE tenant_id = \(tenant) AND item_key = \(itemKey) AND hour > \(hour.addingTimeInterval(-168 * 3600)) AND hour <= \(hour)
                """, logger: database.logger
            ).decode((Date, Int, Int, Int, Int, Int, Int).self) {
                let counts = Counts(views: views, clicks: clicks, likes: likes, saves: saves, shares: shares, dismissals: dismissals)
                windows[2] = windows[2] + counts
                if start > hour.addingTimeInterval(-24 * 3600) { windows[1] = windows[1] + counts }
                if start == hour { windows[0] = windows[0] + counts }
            }
            var total = Counts()
            var prior = 0.0
            for try await (views, clicks, likes, saves, shares, dismissals, tenantViews, tenantClicks) in try await connection.query(
                """
                SELECT coalesce(i.views, 0), coalesce(i.clicks, 0), coalesce(i.likes, 0), coalesce(i.saves, 0), coalesce(i.shares, 0),
                       coalesce(i.dismissals, 0), t.views, t.clicks
                FROM (SELECT coalesce(sum(views), 0)::bigint AS views, coalesce(sum(clicks), 0)::bigint AS clicks
                      FROM experience.item_totals WHERE tenant_id = \(tenant)) t
                LEFT JOIN experience.item_totals i ON i.tenant_id = \(tenant) AND i.item_key = \(itemKey)
                """, logger: database.logger
            ).decode((Int, Int, Int, Int, Int, Int, Int, Int).self) {
                total = Counts(views: views, clicks: clicks, likes: likes, saves: saves, shares: shares, dismissals: dismissals)
                prior = tenantViews > 0 ? Double(tenantClicks) / Double(tenantViews) : 0
            }
            return ItemCounters(
                itemKey: itemKey, lastHour: windows[0], lastDay: windows[1], lastWeek: windows[2], allTime: total,
                smoothedCTR: Popularity.smoothedCTR(clicks: total.clicks, views: total.views, prior: prior))
        }
    }
}
