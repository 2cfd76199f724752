import Foundation
import PostgresNIO

/// Checks of references that several stores make inside their transactions.
enum InventoryChecks {
    /// Stock and photos belong to a place of kind `location`, of this tenant.
    static func requireLocation(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        for try await kind in try await connection.query("SELECT kind FROM photoml.locations WHERE id = \(id)", logger: logger).decode(String.self) {
            guard kind == LocationKind.location.rawValue else { throw InventoryError.notALocation }
            return
        }
        throw InventoryError.locationMissing
    }

    static func requireProduct(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        for try await _ in try await connection.query("SELECT 1 FROM photoml.products WHERE id = \(id)", logger: logger) { return }
        throw InventoryError.productMissing
    }

    /// The number a `SELECT count(*)::int …` answers.
    static func count(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        for try await value in try await connection.query(query, logger: logger).decode(Int.self) { return value }
        return 0
    }
}
