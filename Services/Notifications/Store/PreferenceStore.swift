import Foundation
import Persistence
import PostgresNIO

/// Users' notification preferences; a user who never saved any has the standard ones.
struct PreferenceStore: Sendable {
    let database: Database

    func preferences(of user: UUID, tenant: UUID) async throws -> Preferences {
        try await database.withTenant(tenant) { connection in try await preferences(of: user, on: connection) }
    }

    func preferences(of user: UUID, on connection: PostgresConnection) async throws -> Preferences {
        try await preferences(of: [user], on: connection)[user] ?? .standard
    }

    /// The saved preferences of those among `users` who saved any, by user id.
    func preferences(of users: [UUID], on connection: PostgresConnection) async throws -> [UUID: Preferences] {
        guard !users.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT user_id, time_zone, to_char(quiet_start, 'HH24:MI'), to_char(quiet_end, 'HH24:MI'), to_char(digest_time, 'HH24:MI'), channels::text
            FROM notifications.preferences WHERE user_id = ANY(\(users))
            """, logger: database.logger)
        var saved: [UUID: Preferences] = [:]
        for try await (user, zone, start, end, digest, channels) in rows.decode((UUID, String, String?, String?, String, String).self) {
            let byCategory = (try? JSONDecoder().decode([String: [String: Bool]].self, from: Data(channels.utf8))) ?? [:]
            let window = start.flatMap { start in end.map { Preferences.Window(start: start, end: $0) } }
            saved[user] = Preferences(timeZone: zone, quietHours: window, digestTime: digest, channels: byCategory)
        }
        return saved
    }

    func save(_ preferences: Preferences, of user: UUID, tenant: UUID) async throws {
        let channels = String(decoding: try JSONEncoder().encode(preferences.channels), as: UTF8.self)
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO notifications.preferences (tenant_id, user_id, time_zone, quiet_start, quiet_end, digest_time, channels)
                VALUES (\(tenant), \(user), \(preferences.timeZone), \(preferences.quietHours?.start)::time, \(preferences.quietHours?.end)::time,
                        \(preferences.digestTime)::time, \(channels)::jsonb)
                ON CONFLICT (tenant_id, user_id) DO UPDATE
                  SET time_zone = excluded.time_zone, quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
                      digest_time = excluded.digest_time, channels = excluded.channels, updated_at = now()
                """, logger: database.logger)
        }
    }
}
