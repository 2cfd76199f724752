import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// The scopes an API client may hold: a fixed list, so a typo cannot grant nothing silently.
enum APIScope {
    static let all: Set<String> = [
        "tasks:read", "tasks:write", "search:read", "notifications:read", "notifications:write", "experience:read", "experience:write",
        "campaigns:read", "campaigns:write", "photos:read", "photos:write",
    ]
}

struct APIClientRecord: Codable, Sendable {
    var id: UUID
    var clientId: String
    var name: String
    var scopes: [String]
    var createdAt: Date
    var lastUsedAt: Date?
    var revoked: Bool
    /// Only in the answer to creation: the secret is shown once and stored as a hash.
    var clientSecret: String?
}

/// SQL for OAuth client-credentials clients.
struct APIClientStore: Sendable {
    let database: Database

    static let columns = "id, client_id, name, scopes, created_at, last_used_at, revoked_at IS NOT NULL"

    func decode(_ rows: PostgresRowSequence) async throws -> [APIClientRecord] {
        var items: [APIClientRecord] = []
        for try await (id, clientID, name, scopes, created, used, revoked) in rows.decode((UUID, String, String, [String], Date, Date?, Bool).self) {
            items.append(
                APIClientRecord(id: id, clientId: clientID, name: name, scopes: scopes, createdAt: created, lastUsedAt: used, revoked: revoked))
        }
        return items
    }

    func create(tenant: TenantDetails, name: String, scopes: [String], createdBy: UUID?) async throws -> APIClientRecord {
        let clientID = OpaqueToken.random(bytes: 16, prefix: "cli_").text
        let secret = OpaqueToken.random(prefix: "acs_")
        return try await database.withTenant(tenant.id) { connection in
            try await connection.query("SELECT 1 FROM auth.tenants WHERE id = \(tenant.id) FOR UPDATE", logger: database.logger)
            let active = try await connection.query(
                "SELECT count(*)::int FROM auth.api_clients WHERE revoked_at IS NULL", logger: database.logger)
            for try await count in active.decode(Int.self) where count >= tenant.limits.maxAPIClients {
                throw AuthStoreError.apiClientLimit(plan: "\(tenant.plan)", limit: tenant.limits.maxAPIClients)
            }
            let rows = try await connection.query(
                """
                INSERT INTO auth.api_clients (id, tenant_id, client_id, secret_hash, name, scopes, created_by)
                VALUES (\(UUID.v7()), \(tenant.id), \(clientID), \(secret.hash), \(name), \(scopes), \(createdBy))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            try await connection.query(
                "INSERT INTO auth.api_client_directory (client_id, tenant_id) VALUES (\(clientID), \(tenant.id))", logger: database.logger)
            guard var client = try await decode(rows).first else { throw AuthStoreError.notFound }
            client.clientSecret = secret.text
            return client
        }
    }

    func list(tenantID: UUID, page: PageRequest) async throws -> Page<APIClientRecord> {
        let after = try page.decodedCursor(KeysetPosition.self)
        return try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM auth.api_clients
                WHERE (\(after?.at)::timestamptz IS NULL OR (created_at, id) < (\(after?.at), \(after?.id)))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
                """, logger: database.logger)
            let items = try await decode(rows)
            return Page(fetched: items, limit: page.limit) { KeysetPosition(at: $0.createdAt, id: $0.id) }
        }
    }

    func revoke(_ id: UUID, tenantID: UUID) async throws -> APIClientRecord? {
        try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                UPDATE auth.api_clients SET revoked_at = COALESCE(revoked_at, now()) WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            return try await decode(rows).first
        }
    }

    struct Authenticated: Sendable {
        var clientID: String
        var tenant: TenantDetails
        var scopes: [String]
    }

    /// The client, when the id and secret match an unrevoked client.
    func authenticate(clientID: String, secret: String) async throws -> Authenticated? {
        let directory = try await database.query(
            "SELECT tenant_id FROM auth.api_client_directory WHERE client_id = \(clientID)", logger: database.logger)
        var tenantID: UUID?
        for try await id in directory.decode(UUID.self) { tenantID = id }
        guard let tenantID else { return nil }
        return try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                UPDATE auth.api_clients SET last_used_at = now()
                WHERE client_id = \(clientID) AND secret_hash = \(OpaqueToken.hash(secret)) AND revoked_at IS NULL
                RETURNING scopes
                """, logger: database.logger)
            for try await scopes in rows.decode([String].self) {
                guard let tenant = try await TenantStore(database: database).get(tenantID, on: connection) else { return nil }
                return Authenticated(clientID: clientID, tenant: tenant, scopes: scopes)
            }
            return nil
        }
    }
}
