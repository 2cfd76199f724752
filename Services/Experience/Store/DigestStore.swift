import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Users' digest preferences.
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
    func due(now: Date, limit: Int = 1000) async throws -> [(tenant: UUID, user: String)] {
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

    /// Claims the user's digest of the day their send falls on, once: the claim, the job
    /// that assembles it, and the next send are one transaction.
    func claim(user: String, tenant: UUID, now: Date) async throws -> Claim {
        try await database.withTenant(tenant) { connection in
            guard
                let (zoneName, time, scheduled) = try await connection.query(
                    """
                    SELECT time_zone, local_time, next_send_at FROM experience.digest_preferences
                    WHERE tenant_id = \(tenant) AND user_key = \(user) AND enabled AND next_send_at <= \(now)
                    FOR UPDATE SKIP LOCKED
                    """, logger: database.logger
                ).collect().first.map({ try $0.decode((String, String, Date).self) }),
                let zone = TimeZone(identifier: zoneName), let clock = DigestSchedule.localTime(time)
            else { return .notDue }
            let next = DigestSchedule.next(after: max(now, scheduled), hour: clock.hour, minute: clock.minute, in: zone)
            try await connection.query(
                "UPDATE experience.digest_preferences SET next_send_at = \(next) WHERE tenant_id = \(tenant) AND user_key = \(user)",
                logger: database.logger)
            guard now.timeIntervalSince(scheduled) <= DigestAssembly.window else { return .missed }
            let id = UUID.v7()
            let inserted =
                try await connection.query(
                    """
                    INSERT INTO experience.digests (id, tenant_id, user_key, local_date, scheduled_at)
                    VALUES (\(id), \(tenant), \(user), \(DigestSchedule.localDate(of: scheduled, in: zone))::date, \(scheduled))
                    ON CONFLICT (tenant_id, user_key, local_date) DO NOTHING
                    RETURNING id
                    """, logger: database.logger
                ).collect().count == 1
            guard inserted else { return .alreadyClaimed }
            try await JobQueue(schema: "experience").enqueue(
                ExperienceJobs.assembleDigest, DigestArguments(digestId: id), tenant: tenant, on: connection)
            return .claimed(id)
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

    /// When the user's previous digest was due; nil before their first.
    func previousDigest(before id: UUID, user: String, tenant: UUID) async throws -> Date? {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                SELECT max(scheduled_at) FROM experience.digests
                WHERE tenant_id = \(tenant) AND user_key = \(user) AND id <> \(id) AND state = 'sent'
                """, logger: database.logger
            ).collect().first.flatMap { try $0.decode(Date?.self) }
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

    /// Records what the digest held and how it ended; the email request, when there is one,
    /// goes out through the outbox in the same transaction.
    func finish(_ id: UUID, state: String, articles: [Digest.Article], request: EventEnvelope?, tenant: UUID) async throws {
        let json = String(decoding: try PlatformJSON.encoder.encode(articles), as: UTF8.self)
        try await database.withTenant(tenant) { connection in
            // Only a digest still due: a job run again after its first run committed sends nothing twice.
            let updated =
                try await connection.query(
                    """
                    UPDATE experience.digests SET state = \(state), articles = \(json)::jsonb
                    WHERE tenant_id = \(tenant) AND id = \(id) AND state = 'due' RETURNING id
                    """, logger: database.logger
                ).collect().count == 1
            if updated, let request { try await database.outbox.append([request], on: connection) }
        }
    }
}

struct DigestArguments: Codable, Sendable {
    var digestId: UUID
}
