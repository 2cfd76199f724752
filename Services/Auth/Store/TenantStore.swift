import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

struct TenantSettings: Codable, Sendable, Equatable {
    /// Where social login may redirect for this tenant's apps (exact match).
    var allowedRedirectUris: [String] = []
}

/// A tenant as admins and operators see it.
struct TenantDetails: Codable, Sendable {
    var id: UUID
    var name: String
    var slug: String
    var status: String
    var plan: String
    var settings: TenantSettings
    var limits: Plan.Limits
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    var record: TenantRecord { TenantRecord(id: id, name: name, slug: slug, status: status, plan: plan) }
}

/// What may change on a tenant; nil leaves a field as it is.
struct TenantChange: Sendable {
    var name: String?
    var slug: String?
    var settings: TenantSettings?
    var status: String?
    var plan: Plan?
}

/// SQL for tenants: the admin console's own tenant and the operators' list of all.
struct TenantStore: Sendable {
    let database: Database
    var outbox: AuthOutbox { AuthOutbox(database: database) }

    static let columns = "id, name, slug, status, plan, settings::text, version, created_at, updated_at"

    func details(_ row: PostgresRow) throws -> TenantDetails {
        let (id, name, slug, status, plan, settings, version, created, updated) = try row.decode(
            (UUID, String, String, String, String, String, Int, Date, Date).self)
        return TenantDetails(
            id: id, name: name, slug: slug, status: status, plan: plan,
            settings: (try? JSONDecoder().decode(TenantSettings.self, from: Data(settings.utf8))) ?? TenantSettings(),
            limits: (Plan(rawValue: plan) ?? .free).limits, version: version, createdAt: created, updatedAt: updated)
    }

    func get(_ id: UUID) async throws -> TenantDetails? {
        let rows = try await database.query(
            "SELECT \(unescaped: Self.columns) FROM auth.tenants WHERE id = \(id)", logger: database.logger)
        for try await row in rows { return try details(row) }
        return nil
    }

    /// The tenant named by a slug or an id.
    func find(_ slugOrID: String) async throws -> TenantDetails? {
        if let id = UUID(uuidString: slugOrID) { return try await get(id) }
        let rows = try await database.query(
            "SELECT \(unescaped: Self.columns) FROM auth.tenants WHERE slug = \(slugOrID.lowercased())", logger: database.logger)
        for try await row in rows { return try details(row) }
        return nil
    }

    /// Creates a tenant with no members yet (operators invite its first owner).
    func create(name: String, slug: String, plan: Plan) async throws -> TenantDetails {
        let id = UUID.v7()
        return try await database.withTenant(id) { connection in
            let chosen = try await AccountStore(database: database).insertTenant(
                id, name: name, slug: slug, plan: plan, exactSlug: true, on: connection)
            try await outbox.tenant(
                TenantRecord(id: id, name: name, slug: chosen, status: "active", plan: plan.rawValue), version: 1, type: TenantEvent.created,
                on: connection)
            guard let created = try await get(id, on: connection) else { throw AuthStoreError.notFound }
            return created
        }
    }

    func get(_ id: UUID, on connection: PostgresConnection) async throws -> TenantDetails? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM auth.tenants WHERE id = \(id)", logger: database.logger)
        for try await row in rows { return try details(row) }
        return nil
    }

    /// Applies the change, bumps the version and announces the new state: `suspended` or
    /// `reactivated` when the status changed, `updated` otherwise. Nil for an unknown tenant.
    func update(_ id: UUID, _ change: TenantChange) async throws -> TenantDetails? {
        try await database.withTenant(id) { connection in
            guard let before = try await get(id, on: connection) else { return nil }
            let settings = try change.settings.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            do {
                try await connection.query(
                    """
                    UPDATE auth.tenants SET
                      name = COALESCE(\(change.name), name), slug = COALESCE(\(change.slug), slug),
                      settings = COALESCE(\(settings)::jsonb, settings), status = COALESCE(\(change.status), status),
                      plan = COALESCE(\(change.plan?.rawValue), plan), version = version + 1, updated_at = now()
                    WHERE id = \(id)
                    """, logger: database.logger)
            } catch  where error.sqlState == SQLState.uniqueViolation {
                throw AuthStoreError.slugTaken(change.slug ?? "")
            }
            guard let after = try await get(id, on: connection) else { return nil }
            let type =
                switch (before.status, after.status) {
                case ("active", "suspended"): TenantEvent.suspended
                case ("suspended", "active"): TenantEvent.reactivated
                default: TenantEvent.updated
                }
            try await outbox.tenant(after.record, version: after.version, type: type, on: connection)
            return after
        }
    }

    /// Every tenant, newest first; `query` matches name or slug, case-insensitively.
    func list(query: String?, status: String?, page: PageRequest) async throws -> Page<TenantDetails> {
        let after = try page.decodedCursor(KeysetPosition.self)
        let pattern = query.map { "%" + $0.lowercased().replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM auth.tenants
            WHERE (\(pattern)::text IS NULL OR lower(name) LIKE \(pattern) OR slug LIKE \(pattern))
              AND (\(status)::text IS NULL OR status = \(status))
              AND (\(after?.at)::timestamptz IS NULL OR (created_at, id) < (\(after?.at), \(after?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """, logger: database.logger)
        var items: [TenantDetails] = []
        for try await row in rows { items.append(try details(row)) }
        return Page(fetched: items, limit: page.limit) { KeysetPosition(at: $0.createdAt, id: $0.id) }
    }
}
