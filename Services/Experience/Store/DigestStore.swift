import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Users' digest preferences, and their digests: who is due, each day's claim, what went in.
struct DigestStore: Sendable {
    let database: Database

    static let columns = "enabled, local_time, time_zone, max_items, muted_topics, next_send_at, version"

    static func preferences(_ rows: PostgresRowSequence) async throws -> DigestPreferences? {
        for try await (enabled, time, zone, maxItems, muted, next, version) in rows.decode((Bool, String, String, Int, [String], Date?, Int).self) {
            return DigestPreferences(
                enabled: enabled, localTime: time, timeZone: zone, maxItems: maxItems, mutedTopics: muted, nextSendAt: next, version: version)
        }
        return nil
    }

    /// The user's preferences; never set: the defaults at version 0.
    func preferences(user: String, tenant: UUID) async throws -> DigestPreferences {
        try await database.withTenant(tenant) { connection in
            try await Self.preferences(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM experience.digest_preferences WHERE tenant_id = \(tenant) AND user_key = \(user)",
                    logger: database.logger)) ?? .defaults()
        }
    }

    /// Replaces the preferences; `expectedVersion` (If-Match) must be the current one when given.
    func replace(with preferences: DigestPreferences, user: String, expectedVersion: Int?, tenant: UUID) async throws -> DigestPreferences {
        try await database.withTenant(tenant) { connection in
            let current =
                try await Self.preferences(
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.columns) FROM experience.digest_preferences
                        WHERE tenant_id = \(tenant) AND user_key = \(user) FOR UPDATE
                        """, logger: database.logger)) ?? .defaults()
            if let expectedVersion, expectedVersion != current.version { throw ExperienceError.versionMismatch(current: current.version) }
            let rows = try await connection.query(
                """
                INSERT INTO experience.digest_preferences (tenant_id, user_key, enabled, local_time, time_zone, max_items, muted_topics, next_send_at)
                VALUES (\(tenant), \(user), \(preferences.enabled), \(preferences.localTime), \(preferences.timeZone), \(preferences.maxItems),
                  \(preferences.mutedTopics), \(preferences.nextSendAt))
                ON CONFLICT (tenant_id, user_key) DO UPDATE SET enabled = excluded.enabled, local_time = excluded.local_time,
                  time_zone = excluded.time_zone, max_items = excluded.max_items, muted_topics = excluded.muted_topics,
                  next_send_at = excluded.next_send_at, version = digest_preferences.version + 1, updated_at = now()
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let saved = try await Self.preferences(rows) else { throw ExperienceError.notFound }
            return saved
        }
    }
}

/// The digests themselves: who is due, each day's claim, what went in.
extension DigestStore {
    enum Claim: Equatable {
        /// Claimed now: the digest to assemble.
        case claimed(UUID)
        /// Already claimed for that day (another dispatcher, or before a crash).
        case alreadyClaimed
        /// Past the window: skipped today, scheduled for the next day.
        case missed
        /// No longer due (disabled, or claimed meanwhile by another dispatcher).
        case notDue
    }

    /// Every tenant's users whose digest is due, oldest first.
    static let dueBatch = 1000

    func due(now: Date, limit: Int = DigestStore.dueBatch) async throws -> [(tenant: UUID, user: String)] {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'digests', true)", logger: database.logger)
            var due: [(UUID, String)] = []
            for try await row in try await connection.query(
                """
                SELECT tenant_id, user_key FROM experience.digest_preferences
                WHERE enabled AND next_send_at <= \(now) ORDER BY next_send_at LIMIT \(limit)
                """, logger: database.logger
            ).decode((UUID, String).self) { due.append(row) }
            return due
        }
    }

    /// Claims the user's digest of the day their send falls on, once.
    func claim(user: String, tenant: UUID, now: Date) async throws -> Claim {
        try await claim(users: [user], tenant: tenant, now: now)[user] ?? .notDue
    }

    /// Claims the digests of these users of one tenant, each for the day its send falls on,
    /// once: the claims, the jobs that assemble them (`assemblyBatch` a job) and the next
    /// sends are one transaction. Users another dispatcher holds, or no longer due, are `.notDue`.
    func claim(users: [String], tenant: UUID, now: Date) async throws -> [String: Claim] {
        try await database.withTenant(tenant) { connection in
            var outcome: [String: Claim] = [:]
            var next: [(user: String, at: Date)] = []
            var claims: [(id: UUID, user: String, date: String, scheduled: Date)] = []
            for try await (user, zoneName, time, scheduled) in try await connection.query(
                """
                SELECT user_key, time_zone, local_time, next_send_at FROM experience.digest_preferences
                WHERE tenant_id = \(tenant) AND user_key = ANY(\(users)) AND enabled AND next_send_at <= \(now)
                FOR UPDATE SKIP LOCKED
                """, logger: database.logger
            ).decode((String, String, String, Date).self) {
                guard let zone = TimeZone(identifier: zoneName), let clock = DigestSchedule.localTime(time) else { continue }
                let after = max(now, scheduled)
                // A wall-clock time every day has; the fallback only keeps the user from being claimed again today.
                next.append(
                    (user, DigestSchedule.next(after: after, hour: clock.hour, minute: clock.minute, in: zone) ?? after.addingTimeInterval(86400)))
                if now.timeIntervalSince(scheduled) > DigestAssembly.window {
                    outcome[user] = .missed
                } else {
                    claims.append((UUID.v7(), user, DigestSchedule.localDate(of: scheduled, in: zone), scheduled))
                }
            }
            guard !next.isEmpty else { return outcome }
            try await connection.query(
                """
                UPDATE experience.digest_preferences p SET next_send_at = n.at
                FROM unnest(\(next.map(\.user))::text[], \(next.map(\.at))::timestamptz[]) AS n(user_key, at)
                WHERE p.tenant_id = \(tenant) AND p.user_key = n.user_key
                """, logger: database.logger)
            guard !claims.isEmpty else { return outcome }
            var claimed: [UUID] = []
            for try await (id, user) in try await connection.query(
                """
                INSERT INTO experience.digests (id, tenant_id, user_key, local_date, scheduled_at)
                SELECT c.id, \(tenant), c.user_key, c.day::date, c.at
                FROM unnest(\(claims.map(\.id))::uuid[], \(claims.map(\.user))::text[], \(claims.map(\.date))::text[],
                  \(claims.map(\.scheduled))::timestamptz[]) AS c(id, user_key, day, at)
                ON CONFLICT (tenant_id, user_key, local_date) DO NOTHING
                RETURNING id, user_key
                """, logger: database.logger
            ).decode((UUID, String).self) {
                claimed.append(id)
                outcome[user] = .claimed(id)
            }
            for claim in claims where outcome[claim.user] == nil { outcome[claim.user] = .alreadyClaimed }
            let batches = stride(from: 0, to: claimed.count, by: DigestAssembly.batch).map {
                (tenant: tenant, arguments: DigestArguments(digestIds: Array(claimed[$0..<min($0 + DigestAssembly.batch, claimed.count)])))
            }
            try await JobQueue(schema: "experience").enqueueMany(ExperienceJobs.assembleDigests, batches, on: connection)
            return outcome
        }
    }

    static let digestColumns = "id, user_key, local_date::text, scheduled_at, state, articles::text"

    func digest(_ id: UUID, tenant: UUID) async throws -> Digest {
        try await database.withTenant(tenant) { connection in
            for try await (id, user, date, scheduled, state, articles) in try await connection.query(
                "SELECT \(unescaped: Self.digestColumns) FROM experience.digests WHERE tenant_id = \(tenant) AND id = \(id)", logger: database.logger
            ).decode((UUID, String, String, Date, String, String).self) {
                return Digest(
                    id: id, userId: user, localDate: date, scheduledAt: scheduled, state: state,
                    articles: (try? PlatformJSON.decoder.decode([Digest.Article].self, from: Data(articles.utf8))) ?? [])
            }
            throw ExperienceError.notFound
        }
    }

    /// These digests, those still due.
    func due(_ ids: [UUID], tenant: UUID) async throws -> [Digest] {
        try await database.withTenant(tenant) { connection in
            var found: [Digest] = []
            for try await (id, user, date, scheduled, state, _) in try await connection.query(
                """
                SELECT \(unescaped: Self.digestColumns) FROM experience.digests
                WHERE tenant_id = \(tenant) AND id = ANY(\(ids)) AND state = 'due'
                """, logger: database.logger
            ).decode((UUID, String, String, Date, String, String).self) {
                found.append(Digest(id: id, userId: user, localDate: date, scheduledAt: scheduled, state: state, articles: []))
            }
            return found
        }
    }

    /// Each user's preferences (the defaults for one who never set them).
    func preferences(users: [String], tenant: UUID) async throws -> [String: DigestPreferences] {
        try await database.withTenant(tenant) { connection in
            var found: [String: DigestPreferences] = [:]
            for try await (user, enabled, time, zone, maxItems, muted, next, version) in try await connection.query(
                """
                SELECT user_key, \(unescaped: Self.columns) FROM experience.digest_preferences
                WHERE tenant_id = \(tenant) AND user_key = ANY(\(users))
                """, logger: database.logger
            ).decode((String, Bool, String, String, Int, [String], Date?, Int).self) {
                found[user] = DigestPreferences(
                    enabled: enabled, localTime: time, timeZone: zone, maxItems: maxItems, mutedTopics: muted, nextSendAt: next, version: version)
            }
            return found
        }
    }

    /// When each user's last digest sent was due (other than `excluding`); absent before their first.
    func previousSent(users: [String], excluding ids: [UUID], tenant: UUID) async throws -> [String: Date] {
        try await database.withTenant(tenant) { connection in
            var found: [String: Date] = [:]
            for try await (user, at) in try await connection.query(
                """
                SELECT user_key, max(scheduled_at) FROM experience.digests
                WHERE tenant_id = \(tenant) AND user_key = ANY(\(users)) AND NOT id = ANY(\(ids)) AND state = 'sent'
                GROUP BY user_key
                """, logger: database.logger
            ).decode((String, Date).self) { found[user] = at }
            return found
        }
    }

    /// The tenant's active articles published in `(since, until]`, with their story cluster, newest first.
    func candidates(since: Date, until: Date, tenant: UUID) async throws -> [(item: Item, cluster: String?)] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: FeedStore.itemColumns), s.cluster_key FROM experience.items i
                LEFT JOIN experience.item_signatures s ON s.tenant_id = i.tenant_id AND s.item_key = i.key
                WHERE i.tenant_id = \(tenant) AND i.status = 'active' AND i.published_at > \(since) AND i.published_at <= \(until)
                ORDER BY i.published_at DESC LIMIT 500
                """, logger: database.logger)
            var found: [(Item, String?)] = []
            for try await (a, b, c, d, e, f, g, h, i, j, k, l, m, cluster) in rows.decode(
                (String, String, String, [String], [String], String?, String?, Date?, String, String, Int, Date, Date, String?).self)
            {
                found.append((ItemStore.item((a, b, c, d, e, f, g, h, i, j, k, l, m)), cluster))
            }
            return found
        }
    }

    /// How a digest ended: its state, what it held, and the email request when there is one.
    struct Finished: Sendable {
        var id: UUID
        var state: String
        var articles: [Digest.Article]
        var request: EventEnvelope?
    }

    /// Records what the digests held and how they ended; the email requests go out through the
    /// outbox in the same transaction, only for digests still due (a job run again after its
    /// first run committed sends nothing twice).
    func finish(_ digests: [Finished], tenant: UUID) async throws {
        guard !digests.isEmpty else { return }
        let articles = try digests.map { String(decoding: try PlatformJSON.encoder.encode($0.articles), as: UTF8.self) }
        try await database.withTenant(tenant) { connection in
            var updated: Set<UUID> = []
            for try await id in try await connection.query(
                """
                UPDATE experience.digests d SET state = f.state, articles = f.articles::jsonb, finished_at = now()
                FROM unnest(\(digests.map(\.id))::uuid[], \(digests.map(\.state))::text[], \(articles)::text[]) AS f(id, state, articles)
                WHERE d.tenant_id = \(tenant) AND d.id = f.id AND d.state = 'due'
                RETURNING d.id
                """, logger: database.logger
            ).decode(UUID.self) { updated.insert(id) }
            try await database.outbox.append(digests.filter { updated.contains($0.id) }.compactMap(\.request), on: connection)
        }
    }
}

struct DigestArguments: Codable, Sendable {
    var digestIds: [UUID]
}
