import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for subscribers.
struct SubscriberStore: Sendable {
    let database: Database

    static let columns = "id, email, name, attributes::text, status, version, created_at, updated_at"

    static func subscribers(_ rows: PostgresRowSequence) async throws -> [Subscriber] {
        var found: [Subscriber] = []
        for try await (id, email, name, attributes, status, version, created, updated) in rows.decode(
            (UUID, String, String, String, String, Int, Date, Date).self)
        {
            found.append(
                Subscriber(
                    id: id, email: email, name: name,
                    attributes: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(attributes.utf8))) ?? [:],
                    status: Subscriber.Status(rawValue: status) ?? .enabled, version: version, createdAt: created, updatedAt: updated))
        }
        return found
    }

    static func json(_ attributes: [String: JSONValue]) -> String {
        String(decoding: (try? JSONEncoder().encode(attributes)) ?? Data("{}".utf8), as: UTF8.self)
    }

    func uniqueEmail<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw CampaignsError.duplicateEmail
        }
    }

    /// A new subscriber, on `lists` at once (confirmed on single opt-in lists, unconfirmed on
    /// double ones); within the plan's subscriber quota.
    func create(_ subscriber: Subscriber, lists: [UUID], quota: Int?, tenant: UUID) async throws -> Subscriber {
        try await uniqueEmail {
            try await database.withTenant(tenant) { connection in
                if let quota {
                    for try await count in try await connection.query("SELECT count(*)::int FROM campaigns.subscribers", logger: database.logger)
                        .decode(Int.self)
                    where count >= quota {
                        throw CampaignsError.quota("the plan allows \(quota) subscribers")
                    }
                }
                let rows = try await connection.query(
                    """
                    INSERT INTO campaigns.subscribers (id, tenant_id, email, name, attributes, status)
                    VALUES (\(subscriber.id), \(tenant), \(subscriber.email), \(subscriber.name), \(Self.json(subscriber.attributes))::jsonb,
                            \(subscriber.status.rawValue))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.subscribers(rows).first else { throw CampaignsError.notFound }
                if !lists.isEmpty {
                    try await ListStore.join(lists, subscribers: [created.id], status: nil, tenant: tenant, on: connection, logger: database.logger)
                }
                return created
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Subscriber {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Subscriber? {
        try await Self.subscribers(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM campaigns.subscribers WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    /// Newest first; `text` matches email or name, `status` and `list` narrow.
    func list(tenant: UUID, text: String?, status: Subscriber.Status?, list: UUID?, before cursor: UUID?, limit: Int) async throws -> [Subscriber] {
        let pattern = text.map { "%" + SegmentSQL.escapeLike($0) + "%" }
        return try await database.withTenant(tenant) { connection in
            try await Self.subscribers(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.subscribers s
                    WHERE (\(pattern)::text IS NULL OR s.email ILIKE \(pattern) OR s.name ILIKE \(pattern))
                      AND (\(status?.rawValue)::text IS NULL OR s.status = \(status?.rawValue))
                      AND (\(list)::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM campaigns.list_members m WHERE m.subscriber_id = s.id AND m.list_id = \(list)))
                      AND (\(cursor)::uuid IS NULL OR s.id < \(cursor))
                    ORDER BY s.id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// Oldest first, for the export.
    func oldestFirst(tenant: UUID, after cursor: UUID?, limit: Int) async throws -> [Subscriber] {
        try await database.withTenant(tenant) { connection in
            try await Self.subscribers(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.subscribers
                    WHERE (\(cursor)::uuid IS NULL OR id > \(cursor)) ORDER BY id LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func update(_ id: UUID, tenant: UUID, expectedVersion: Int?, change: @Sendable (Subscriber) -> Subscriber) async throws -> Subscriber {
        try await uniqueEmail {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
                if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
                let next = change(current)
                if next == current { return current }
                let rows = try await connection.query(
                    """
                    UPDATE campaigns.subscribers SET email = \(next.email), name = \(next.name), attributes = \(Self.json(next.attributes))::jsonb,
                      status = \(next.status.rawValue), version = version + 1, updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await Self.subscribers(rows).first else { throw CampaignsError.notFound }
                return updated
            }
        }
    }

    /// Deletes the subscriber and their memberships (their past sends keep only the address's hash).
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
            try await connection.query("DELETE FROM campaigns.subscribers WHERE id = \(id)", logger: database.logger)
        }
    }

    /// The subscriber's lists and their status on each.
    func memberships(_ id: UUID, tenant: UUID) async throws -> [ListMembership] {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(id, lock: false, on: connection) != nil else { throw CampaignsError.notFound }
            return try await ListStore.memberships(
                try await connection.query(
                    """
                    SELECT m.list_id, m.subscriber_id, s.email, s.name, m.status, m.created_at, m.updated_at
                    FROM campaigns.list_members m JOIN campaigns.subscribers s ON s.id = m.subscriber_id
                    WHERE m.subscriber_id = \(id) ORDER BY m.list_id
                    """, logger: database.logger))
        }
    }
}
