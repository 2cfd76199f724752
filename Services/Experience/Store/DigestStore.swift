import Foundation
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
