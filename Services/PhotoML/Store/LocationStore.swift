import Foundation
import Persistence
import PostgresNIO

/// SQL for the location hierarchy.
struct LocationStore: Sendable {
    let database: Database

    static let columns = "id, kind, parent_id, name, code, surface_m2, calibration::text, version, created_at, updated_at"

    static func locations(_ rows: PostgresRowSequence) async throws -> [Location] {
        var locations: [Location] = []
        for try await (id, kind, parent, name, code, surface, calibration, version, created, updated) in rows.decode(
            (UUID, String, UUID?, String, String?, Double?, String?, Int, Date, Date).self)
        {
            locations.append(
                Location(
                    id: id, kind: LocationKind(rawValue: kind) ?? .location, parentId: parent, name: name, code: code,
                    surfaceSquareMetres: surface,
                    calibration: calibration.flatMap { try? JSONDecoder().decode(Calibration.self, from: Data($0.utf8)) },
                    version: version, createdAt: created, updatedAt: updated))
        }
        return locations
    }

    static func json(_ calibration: Calibration?) throws -> String? {
        try calibration.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
    }

    func create(_ input: NewLocationInput, name: String, code: String?, tenant: UUID) async throws -> Location {
        let calibration = try Self.json(input.calibration)
        return try await uniqueNames {
            try await database.withTenant(tenant) { connection in
                if let expected = input.kind.parentKind {
                    guard let parentID = input.parentId, let parent = try await fetch(parentID, lock: false, on: connection) else {
                        throw InventoryError.parentMissing
                    }
                    guard parent.kind == expected else { throw InventoryError.parentKind(expected: expected) }
                }
                let rows = try await connection.query(
                    """
                    INSERT INTO photoml.locations (id, tenant_id, kind, parent_id, name, code, surface_m2, calibration)
                    VALUES (\(UUID.v7()), \(tenant), \(input.kind.rawValue), \(input.kind == .warehouse ? nil : input.parentId), \(name), \(code),
                            \(input.surfaceSquareMetres), \(calibration)::jsonb)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let location = try await Self.locations(rows).first else { throw InventoryError.notFound }
                return location
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Location {
        try await database.withTenant(tenant) { connection in
            guard let location = try await fetch(id, lock: false, on: connection) else { throw InventoryError.notFound }
            return location
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Location? {
        try await Self.locations(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM photoml.locations WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    /// Newest first, optionally of one kind or under one parent.
    func list(tenant: UUID, kind: LocationKind?, parent: UUID?, before cursor: UUID?, limit: Int) async throws -> [Location] {
        try await database.withTenant(tenant) { connection in
            try await Self.locations(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM photoml.locations
                    WHERE (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue)) AND (\(parent)::uuid IS NULL OR parent_id = \(parent))
                      AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func update(_ id: UUID, tenant: UUID, expectedVersion: Int?, change: @Sendable (Location) throws -> Location) async throws -> Location {
        try await uniqueNames {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
                if let expectedVersion, expectedVersion != current.version { throw InventoryError.versionMismatch(current: current.version) }
                let next = try change(current)
                if next == current { return current }
                let rows = try await connection.query(
                    """
                    UPDATE photoml.locations SET name = \(next.name), code = \(next.code), surface_m2 = \(next.surfaceSquareMetres),
                      calibration = \(try Self.json(next.calibration))::jsonb, version = version + 1, updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await Self.locations(rows).first else { throw InventoryError.notFound }
                return updated
            }
        }
    }

    /// Only an empty place goes: no areas or locations under it, no stock batches at it.
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw InventoryError.versionMismatch(current: current.version) }
            let children = try await InventoryChecks.count(
                "SELECT count(*)::int FROM photoml.locations WHERE parent_id = \(id)", on: connection, logger: database.logger)
            if children > 0 { throw InventoryError.hasChildren(children) }
            let batches = try await InventoryChecks.count(
                "SELECT count(*)::int FROM photoml.stock_batches WHERE location_id = \(id)", on: connection, logger: database.logger)
            if batches > 0 { throw InventoryError.hasStock(batches) }
            let sessions = try await InventoryChecks.count(
                "SELECT count(*)::int FROM photoml.photo_sessions WHERE location_id = \(id)", on: connection, logger: database.logger)
            if sessions > 0 { throw InventoryError.hasPhotoSessions(sessions) }
            try await connection.query("DELETE FROM photoml.locations WHERE id = \(id)", logger: database.logger)
        }
    }

    /// Names are unique among siblings, codes within the tenant.
    func uniqueNames<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw error.sqlConstraint == "locations_code" ? InventoryError.duplicateCode : InventoryError.duplicateName
        }
    }
}
