import Contracts
import Foundation
import Metrics
import Persistence
import PostgresNIO

/// Checks the counters against the interaction log they count, and repairs what differs.
struct ReconciliationStore: Sendable {
    let database: Database
    var counters: CounterStore { CounterStore(database: database) }

    /// Recounts the log's hours `[from, to)` for the tenant, compares each item-hour with its
    /// bucket, and every item's total with the sum of its buckets; sets back what differs.
    func reconcile(tenant: UUID, hours: Int, now: Date = Date()) async throws -> Reconciliation {
        let started = Date()
        let to = CountBucket.hour(of: now).addingTimeInterval(3600)
        let from = to.addingTimeInterval(-Double(hours) * 3600)
        return try await database.withTenant(tenant) { connection in
            // One statement, so the log and the buckets are read in one snapshot.
            var checked = 0
            var repairs: [(CountBucket, Counts)] = []
            for try await row in try await connection.query(
                """
                WITH expected AS (
                  SELECT item_key, date_trunc('hour', occurred_at, 'UTC') AS hour,
                         count(*) FILTER (WHERE kind = 'view')::int AS views, count(*) FILTER (WHERE kind = 'click')::int AS clicks,
                         count(*) FILTER (WHERE kind = 'like')::int AS likes, count(*) FILTER (WHERE kind = 'save')::int AS saves,
                         count(*) FILTER (WHERE kind = 'share')::int AS shares, count(*) FILTER (WHERE kind = 'dismiss')::int AS dismissals
                  FROM experience.interactions
                  WHERE tenant_id = \(tenant) AND occurred_at >= \(from) AND occurred_at < \(to) AND kind <> 'progress'
                  GROUP BY 1, 2
                ), stored AS (
                  SELECT item_key, hour, views, clicks, likes, saves, shares, dismissals FROM experience.item_counts
                  WHERE tenant_id = \(tenant) AND hour >= \(from) AND hour < \(to)
                )
                SELECT coalesce(e.item_key, s.item_key), coalesce(e.hour, s.hour),
                       coalesce(s.views, 0) - coalesce(e.views, 0), coalesce(s.clicks, 0) - coalesce(e.clicks, 0),
                       coalesce(s.likes, 0) - coalesce(e.likes, 0), coalesce(s.saves, 0) - coalesce(e.saves, 0),
                       coalesce(s.shares, 0) - coalesce(e.shares, 0), coalesce(s.dismissals, 0) - coalesce(e.dismissals, 0)
                FROM expected e FULL JOIN stored s USING (item_key, hour)
                """, logger: database.logger)
            {
                let (item, hour, views, clicks, likes, saves, shares, dismissals) = try row.decode((String, Date, Int, Int, Int, Int, Int, Int).self)
                checked += 1
                let difference = Counts(views: views, clicks: clicks, likes: likes, saves: saves, shares: shares, dismissals: dismissals)
                if !difference.isZero { repairs.append((CountBucket(itemKey: item, hour: hour), difference)) }
            }
            // Buckets first, alone; then every total must be the sum of its item's buckets.
            try await setBucketsBack(repairs, tenant: tenant, on: connection)
            var totals: [(String, Counts)] = []
            for try await (item, views, clicks, likes, saves, shares, dismissals) in try await connection.query(
                """
                WITH sums AS (
                  SELECT item_key, sum(views)::bigint AS views, sum(clicks)::bigint AS clicks, sum(likes)::bigint AS likes,
                         sum(saves)::bigint AS saves, sum(shares)::bigint AS shares, sum(dismissals)::bigint AS dismissals
                  FROM experience.item_counts WHERE tenant_id = \(tenant) GROUP BY item_key
                )
                SELECT coalesce(t.item_key, s.item_key),
                       coalesce(t.views, 0) - coalesce(s.views, 0), coalesce(t.clicks, 0) - coalesce(s.clicks, 0),
                       coalesce(t.likes, 0) - coalesce(s.likes, 0), coalesce(t.saves, 0) - coalesce(s.saves, 0),
                       coalesce(t.shares, 0) - coalesce(s.shares, 0), coalesce(t.dismissals, 0) - coalesce(s.dismissals, 0)
                FROM (SELECT * FROM experience.item_totals WHERE tenant_id = \(tenant)) t FULL JOIN sums s USING (item_key)
                WHERE (coalesce(t.views, 0), coalesce(t.clicks, 0), coalesce(t.likes, 0), coalesce(t.saves, 0), coalesce(t.shares, 0),
                       coalesce(t.dismissals, 0))
                   <> (coalesce(s.views, 0), coalesce(s.clicks, 0), coalesce(s.likes, 0), coalesce(s.saves, 0), coalesce(s.shares, 0),
                       coalesce(s.dismissals, 0))
                """, logger: database.logger
            ).decode((String, Int, Int, Int, Int, Int, Int).self) {
                totals.append((item, Counts(views: views, clicks: clicks, likes: likes, saves: saves, shares: shares, dismissals: dismissals)))
            }
            try await setTotalsBack(totals, tenant: tenant, on: connection)
            let report = Reconciliation(
                id: .v7(), fromHour: from, toHour: to, bucketsChecked: checked, drift: Reconciliation.drift(repairs.map(\.1) + totals.map(\.1)),
                repaired: repairs.count + totals.count, startedAt: started, finishedAt: Date())
            try await connection.query(
                """
                INSERT INTO experience.reconciliations (id, tenant_id, from_hour, to_hour, buckets_checked, drift, repaired, started_at, finished_at)
                VALUES (\(report.id), \(tenant), \(from), \(to), \(checked), \(try Self.json(report.drift))::jsonb, \(report.repaired),
                        \(report.startedAt), \(report.finishedAt))
                """, logger: database.logger)
            for (name, drift) in report.drift {
                Counter(label: "experience_counter_drift_total", dimensions: [("counter", name)]).increment(by: abs(drift.difference))
            }
            return report
        }
    }

    /// Subtracts each bucket's difference. A bucket the log has and the counters lack is
    /// made; the others exist, and a row proposed with a negative count would break its
    /// check even where it then only updates.
    private func setBucketsBack(_ differences: [(CountBucket, Counts)], tenant: UUID, on connection: PostgresConnection) async throws {
        guard !differences.isEmpty else { return }
        let batch = String(
            decoding: try PlatformJSON.encoder.encode(differences.sorted { $0.0 < $1.0 }.map { CounterStore.Row(($0.0, $0.1)) }), as: UTF8.self)
        try await connection.query(
            """
            WITH d AS (
              SELECT * FROM jsonb_to_recordset(\(batch)::jsonb)
                AS x(item_key text, hour timestamptz, views int, clicks int, likes int, saves int, shares int, dismissals int)
            ), updated AS (
              UPDATE experience.item_counts c SET
                views = c.views - d.views, clicks = c.clicks - d.clicks, likes = c.likes - d.likes, saves = c.saves - d.saves,
                shares = c.shares - d.shares, dismissals = c.dismissals - d.dismissals
              FROM d WHERE c.tenant_id = \(tenant) AND c.item_key = d.item_key AND c.hour = d.hour
              RETURNING c.item_key, c.hour
            )
            INSERT INTO experience.item_counts (tenant_id, item_key, hour, views, clicks, likes, saves, shares, dismissals)
            SELECT \(tenant), item_key, hour, -views, -clicks, -likes, -saves, -shares, -dismissals FROM d
            WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.item_key = d.item_key AND u.hour = d.hour)
            """, logger: database.logger)
    }

    /// Subtracts each item's difference from its total: a total missing (buckets without
    /// one) is made at zero first, then all move in one statement.
    private func setTotalsBack(_ differences: [(String, Counts)], tenant: UUID, on connection: PostgresConnection) async throws {
        guard !differences.isEmpty else { return }
        let sorted = differences.sorted { $0.0 < $1.0 }
        try await connection.query(
            """
            INSERT INTO experience.item_totals (tenant_id, item_key) SELECT \(tenant), unnest(\(sorted.map(\.0))::text[])
            ON CONFLICT (tenant_id, item_key) DO NOTHING
            """, logger: database.logger)
        let batch = String(decoding: try PlatformJSON.encoder.encode(sorted.map { TotalRow(item_key: $0.0, counts: $0.1) }), as: UTF8.self)
        try await connection.query(
            """
            UPDATE experience.item_totals t SET
              views = t.views - d.views, clicks = t.clicks - d.clicks, likes = t.likes - d.likes, saves = t.saves - d.saves,
              shares = t.shares - d.shares, dismissals = t.dismissals - d.dismissals
            FROM jsonb_to_recordset(\(batch)::jsonb) AS d(item_key text, views int, clicks int, likes int, saves int, shares int, dismissals int)
            WHERE t.tenant_id = \(tenant) AND t.item_key = d.item_key
            """, logger: database.logger)
    }

    /// One item's difference as `jsonb_to_recordset` reads it.
    private struct TotalRow: Encodable {
        var item_key: String
        var views, clicks, likes, saves, shares, dismissals: Int

        init(item_key: String, counts: Counts) {
            self.item_key = item_key
            views = counts.views
            clicks = counts.clicks
            likes = counts.likes
            saves = counts.saves
            shares = counts.shares
            dismissals = counts.dismissals
        }
    }

    static func json(_ drift: [String: Reconciliation.Drift]) throws -> String {
        String(decoding: try PlatformJSON.encoder.encode(drift), as: UTF8.self)
    }

    /// The tenant's newest reports, newest first.
    func recent(tenant: UUID, limit: Int = 20) async throws -> [Reconciliation] {
        try await database.withTenant(tenant) { connection in
            var reports: [Reconciliation] = []
            for try await (id, from, to, checked, drift, repaired, started, finished) in try await connection.query(
                """
                SELECT id, from_hour, to_hour, buckets_checked, drift::text, repaired, started_at, finished_at
                FROM experience.reconciliations WHERE tenant_id = \(tenant) ORDER BY started_at DESC LIMIT \(limit)
                """, logger: database.logger
            ).decode((UUID, Date, Date, Int, String, Int, Date, Date).self) {
                reports.append(
                    Reconciliation(
                        id: id, fromHour: from, toHour: to, bucketsChecked: checked,
                        drift: (try? PlatformJSON.decoder.decode([String: Reconciliation.Drift].self, from: Data(drift.utf8))) ?? [:],
                        repaired: repaired, startedAt: started, finishedAt: finished))
            }
            return reports
        }
    }

    /// Tenants with counter activity since `since` (from the list the counters keep).
    func activeTenants(since: Date) async throws -> [UUID] {
        try await database.query(
            "SELECT tenant_id FROM experience.counted_tenants WHERE last_activity >= \(since)", logger: database.logger
        ).collect().map { try $0.decode(UUID.self) }
    }
}
