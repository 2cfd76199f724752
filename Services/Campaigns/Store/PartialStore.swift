import Foundation
import Persistence
import PostgresNIO

/// SQL for a tenant's partials.
struct PartialStore: Sendable {
    let database: Database

    static func partials(_ rows: PostgresRowSequence) async throws -> [Partial] {
        var found: [Partial] = []
        for try await (name, body, version, updated) in rows.decode((String, String, Int, Date).self) {
            found.append(Partial(name: name, body: body, version: version, updatedAt: updated))
        }
        return found
    }

    /// Creates or replaces; a replacement names the version it read (If-Match), if any.
    func put(_ name: String, body: String, expectedVersion: Int?, tenant: UUID) async throws -> (Partial, created: Bool) {
        try await database.withTenant(tenant) { connection in
            let current = try await Self.partials(
                try await connection.query(
                    "SELECT name, body, version, updated_at FROM campaigns.partials WHERE name = \(name) FOR UPDATE", logger: database.logger)
            ).first
            if let expectedVersion, expectedVersion != (current?.version ?? 0) {
                throw CampaignsError.versionMismatch(current: current?.version ?? 0)
            }
            let rows = try await connection.query(
                """
                INSERT INTO campaigns.partials (tenant_id, name, body) VALUES (\(tenant), \(name), \(body))
                ON CONFLICT (tenant_id, name) DO UPDATE SET body = EXCLUDED.body, version = partials.version + 1, updated_at = now()
                RETURNING name, body, version, updated_at
                """, logger: database.logger)
            guard let saved = try await Self.partials(rows).first else { throw CampaignsError.notFound }
            return (saved, current == nil)
        }
    }

    func get(_ name: String, tenant: UUID) async throws -> Partial {
        try await database.withTenant(tenant) { connection in
            guard
                let found = try await Self.partials(
                    try await connection.query(
                        "SELECT name, body, version, updated_at FROM campaigns.partials WHERE name = \(name)", logger: database.logger)
                ).first
            else { throw CampaignsError.notFound }
            return found
        }
    }

    func list(tenant: UUID) async throws -> [Partial] {
        try await database.withTenant(tenant) { connection in
            try await Self.partials(
                try await connection.query("SELECT name, body, version, updated_at FROM campaigns.partials ORDER BY name", logger: database.logger))
        }
    }

    /// Refused (409) while a template's latest version includes it.
    func delete(_ name: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await template in try await connection.query(
                """
                SELECT t.name FROM campaigns.templates t JOIN campaigns.template_versions v
                  ON v.template_id = t.id AND v.version = t.latest_version
                WHERE position(\("{{> " + name) IN v.html) > 0 OR position(\("{{>" + name) IN v.html) > 0
                   OR position(\("{{> " + name) IN COALESCE(v.text_body, '')) > 0 OR position(\("{{>" + name) IN COALESCE(v.text_body, '')) > 0
                LIMIT 1
                """, logger: database.logger
            ).decode(String.self) {
                throw CampaignsError.inUse("the template '\(template)' includes it")
            }
            for try await _ in try await connection.query(
                "DELETE FROM campaigns.partials WHERE name = \(name) RETURNING 1", logger: database.logger)
            {
                return
            }
            throw CampaignsError.notFound
        }
    }
}
