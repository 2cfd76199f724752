import Crypto
import Foundation
import Persistence
import PostgresNIO

struct PushSubscription: Codable, Sendable, Equatable {
    var id: UUID
    var endpoint: String
    var createdAt: Date
}

/// Users' push subscriptions and the service's VAPID key.
struct PushStore: Sendable {
    let database: Database

    /// Subscribing the same browser again keeps one row (and refreshes its keys).
    func subscribe(user: UUID, tenant: UUID, endpoint: String, p256dh: String, auth: String) async throws -> PushSubscription {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO notifications.push_subscriptions (id, tenant_id, user_id, endpoint, p256dh, auth)
                VALUES (\(UUID.v7()), \(tenant), \(user), \(endpoint), \(p256dh), \(auth))
                ON CONFLICT (tenant_id, user_id, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                RETURNING id, endpoint, created_at
                """, logger: database.logger)
            for try await (id, endpoint, created) in rows.decode((UUID, String, Date).self) {
                return PushSubscription(id: id, endpoint: endpoint, createdAt: created)
            }
            throw PushStoreError.notStored
        }
    }

    func list(user: UUID, tenant: UUID) async throws -> [PushSubscription] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT id, endpoint, created_at FROM notifications.push_subscriptions WHERE user_id = \(user) ORDER BY created_at",
                logger: database.logger)
            var subscriptions: [PushSubscription] = []
            for try await (id, endpoint, created) in rows.decode((UUID, String, Date).self) {
                subscriptions.append(PushSubscription(id: id, endpoint: endpoint, createdAt: created))
            }
            return subscriptions
        }
    }

    struct Target: Sendable {
        var id: UUID
        var endpoint: String
        var keys: PushSubscriptionKeys
    }

    /// Those among `users` with at least one push subscription.
    func subscribed(_ users: [UUID], on connection: PostgresConnection) async throws -> Set<UUID> {
        guard !users.isEmpty else { return [] }
        let rows = try await connection.query(
            "SELECT DISTINCT user_id FROM notifications.push_subscriptions WHERE user_id = ANY(\(users))", logger: database.logger)
        var subscribed: Set<UUID> = []
        for try await (user, ) in rows.decode((UUID,).self) { subscribed.insert(user) }
        return subscribed
    }

    func targets(user: UUID, on connection: PostgresConnection) async throws -> [Target] {
        let rows = try await connection.query(
            "SELECT id, endpoint, p256dh, auth FROM notifications.push_subscriptions WHERE user_id = \(user) ORDER BY created_at",
            logger: database.logger)
        var targets: [Target] = []
        for try await (id, endpoint, p256dh, auth) in rows.decode((UUID, String, String, String).self) {
            if let keys = PushSubscriptionKeys(p256dh: p256dh, auth: auth) { targets.append(Target(id: id, endpoint: endpoint, keys: keys)) }
        }
        return targets
    }

    func delete(_ id: UUID, user: UUID?, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query(
                """
                DELETE FROM notifications.push_subscriptions WHERE id = \(id) AND (\(user)::uuid IS NULL OR user_id = \(user)) RETURNING 1
                """, logger: database.logger)
            {
                return true
            }
            return false
        }
    }

    /// The VAPID key, made by the first replica that needs it.
    func vapidKey() async throws -> P256.Signing.PrivateKey {
        let candidate = P256.Signing.PrivateKey()
        let rows = try await database.query(
            """
            WITH made AS (
              INSERT INTO notifications.vapid_keys (id, private_key) VALUES (1, \(candidate.rawRepresentation.base64EncodedString()))
              ON CONFLICT (id) DO NOTHING RETURNING private_key
            )
            SELECT private_key FROM made UNION ALL SELECT private_key FROM notifications.vapid_keys WHERE id = 1
            """, logger: database.logger)
        for try await (raw, ) in rows.decode((String,).self) {
            guard let bytes = Data(base64Encoded: raw) else { break }
            return try P256.Signing.PrivateKey(rawRepresentation: bytes)
        }
        throw PushStoreError.noVapidKey
    }
}

enum PushStoreError: Error { case notStored, noVapidKey }
