import Foundation
import Persistence
import PostgresNIO

/// SQL for a tenant's brand.
struct BrandingStore: Sendable {
    let database: Database

    func get(tenant: UUID) async throws -> Branding? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query("SELECT name, logo_url, color FROM notifications.branding", logger: database.logger)
            for try await (name, logo, color) in rows.decode((String?, String?, String?).self) {
                return Branding(name: name, logoUrl: logo, color: color)
            }
            return nil
        }
    }

    func save(_ branding: Branding, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO notifications.branding (tenant_id, name, logo_url, color) VALUES (\(tenant), \(branding.name), \(branding.logoUrl), \(branding.color))
                ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, logo_url = excluded.logo_url, color = excluded.color, updated_at = now()
                """, logger: database.logger)
        }
    }

    /// False when the tenant had no brand.
    func delete(tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query("DELETE FROM notifications.branding RETURNING 1", logger: database.logger)
            for try await _ in rows { return true }
            return false
        }
    }
}
