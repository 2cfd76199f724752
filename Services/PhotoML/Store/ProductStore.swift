import Foundation
import Persistence
import PostgresNIO

/// SQL for products.
struct ProductStore: Sendable {
    let database: Database

    static let columns = "id, species, variety, size, packaging, sku, version, created_at, updated_at"

    static func products(_ rows: PostgresRowSequence) async throws -> [Product] {
        var products: [Product] = []
        for try await (id, species, variety, size, packaging, sku, version, created, updated) in rows.decode(
            (UUID, String, String?, String?, String?, String?, Int, Date, Date).self)
        {
            products.append(
                Product(
                    id: id, species: species, variety: variety, size: size, packaging: packaging, sku: sku, version: version, createdAt: created,
                    updatedAt: updated))
        }
        return products
    }

    func create(_ product: Product, tenant: UUID) async throws -> Product {
        try await uniqueSKU {
            try await database.withTenant(tenant) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO photoml.products (id, tenant_id, species, variety, size, packaging, sku)
                    VALUES (\(UUID.v7()), \(tenant), \(product.species), \(product.variety), \(product.size), \(product.packaging), \(product.sku))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.products(rows).first else { throw InventoryError.notFound }
                return created
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Product {
        try await database.withTenant(tenant) { connection in
            guard let product = try await fetch(id, lock: false, on: connection) else { throw InventoryError.notFound }
            return product
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Product? {
        try await Self.products(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM photoml.products WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    /// Newest first; `text` matches species, variety or SKU.
    func list(tenant: UUID, text: String?, before cursor: UUID?, limit: Int) async throws -> [Product] {
        let pattern = text.map {
            "%"
                + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
                    of: "_", with: "\\_") + "%"
        }
        return try await database.withTenant(tenant) { connection in
            try await Self.products(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM photoml.products
                    WHERE (\(pattern)::text IS NULL OR species ILIKE \(pattern) OR variety ILIKE \(pattern) OR sku ILIKE \(pattern))
                      AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func update(_ id: UUID, tenant: UUID, expectedVersion: Int?, change: @Sendable (Product) -> Product) async throws -> Product {
        try await uniqueSKU {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
                if let expectedVersion, expectedVersion != current.version { throw InventoryError.versionMismatch(current: current.version) }
                let next = change(current)
                if next == current { return current }
                let rows = try await connection.query(
                    """
                    UPDATE photoml.products SET species = \(next.species), variety = \(next.variety), size = \(next.size),
                      packaging = \(next.packaging), sku = \(next.sku), version = version + 1, updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await Self.products(rows).first else { throw InventoryError.notFound }
                return updated
            }
        }
    }

    /// A product that still has stock batches stays.
    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw InventoryError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw InventoryError.versionMismatch(current: current.version) }
            let batches = try await InventoryChecks.count(
                "SELECT count(*)::int FROM photoml.stock_batches WHERE product_id = \(id)", on: connection, logger: database.logger)
            if batches > 0 { throw InventoryError.hasStock(batches) }
            let sessions = try await InventoryChecks.count(
                "SELECT count(*)::int FROM photoml.photo_sessions WHERE product_id = \(id)", on: connection, logger: database.logger)
            if sessions > 0 { throw InventoryError.hasPhotoSessions(sessions) }
            try await connection.query("DELETE FROM photoml.products WHERE id = \(id)", logger: database.logger)
        }
    }

    func uniqueSKU<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw InventoryError.duplicateSKU
        }
    }
}
