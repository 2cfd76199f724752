import Foundation
import Persistence
import PostgresNIO

/// SQL for the addresses campaigns suppressed, as notifications keeps them.
struct AddressSuppressionStore: Sendable {
    let database: Database

    func add(_ email: String, reason: String, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO notifications.address_suppressions (tenant_id, email, reason) VALUES (\(tenant), \(email), \(reason))
                ON CONFLICT (tenant_id, email) DO UPDATE SET reason = EXCLUDED.reason, updated_at = now()
                """, logger: database.logger)
        }
    }

    func remove(_ email: String, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query("DELETE FROM notifications.address_suppressions WHERE email = \(email)", logger: database.logger)
        }
    }

    /// The addresses among these that campaigns suppressed.
    static func suppressed(_ addresses: Set<String>, on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        guard !addresses.isEmpty else { return [] }
        var found: Set<String> = []
        for try await email in try await connection.query(
            "SELECT email FROM notifications.address_suppressions WHERE email = ANY(\(Array(addresses)))", logger: logger
        ).decode(String.self) {
            found.insert(email)
        }
        return found
    }
}
