import Foundation
import Persistence
import PostgresNIO

/// SQL for stock batches and their movements: every change of a quantity writes its
/// movement in the same transaction, under the batch's row lock.
struct StockStore: Sendable {
    let database: Database

    /// Above this a batch is surely a typing error (and `int` would overflow soon after).
    static let maxBatchQuantity = 1_000_000_000

    static let columns = "id, location_id, product_id, quantity, source, version, created_at, updated_at"
    static let movementColumns =
        "id, batch_id, kind, delta, quantity_before, quantity_after, counterpart_id, reason, actor, session_id, created_at"

    static func batches(_ rows: PostgresRowSequence) async throws -> [StockBatch] {
        var batches: [StockBatch] = []
        for try await (id, location, product, quantity, source, version, created, updated) in rows.decode(
            (UUID, UUID, UUID, Int, String, Int, Date, Date).self)
        {
            batches.append(
                StockBatch(
                    id: id, locationId: location, productId: product, quantity: quantity, source: StockSource(rawValue: source) ?? .manual,
                    version: version, createdAt: created, updatedAt: updated))
        }
        return batches
    }

    static func movements(_ rows: PostgresRowSequence) async throws -> [StockMovement] {
        var movements: [StockMovement] = []
        for try await (id, batch, kind, delta, before, after, counterpart, reason, actor, session, created) in rows.decode(
            (UUID, UUID, String, Int, Int, Int, UUID?, String?, String, UUID?, Date).self)
        {
            movements.append(
                StockMovement(
                    id: id, batchId: batch, kind: MovementKind(rawValue: kind) ?? .adjustment, delta: delta, quantityBefore: before,
                    quantityAfter: after, counterpartBatchId: counterpart, reason: reason, actor: actor, sessionId: session, createdAt: created))
        }
        return movements
    }

    /// A new batch; its opening quantity arrives as an `in` movement.
    func create(_ input: NewStockInput, actor: String, tenant: UUID) async throws -> StockBatch {
        try await database.withTenant(tenant) { connection in
            try await InventoryChecks.requireLocation(input.locationId, on: connection, logger: database.logger)
            try await InventoryChecks.requireProduct(input.productId, on: connection, logger: database.logger)
            let batch = try await insertBatch(
                location: input.locationId, product: input.productId, source: input.source ?? .manual, on: connection)
            guard input.quantity > 0 else { return batch }
            let (updated, _) = try await apply(
                delta: input.quantity, kind: .in, to: batch, counterpart: nil, reason: nil, actor: actor, session: nil, on: connection)
            return updated
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> StockBatch {
        try await database.withTenant(tenant) { connection in
            guard let batch = try await fetch(id, on: connection) else { throw InventoryError.notFound }
            return batch
        }
    }

    func fetch(_ id: UUID, on connection: PostgresConnection) async throws -> StockBatch? {
        try await Self.batches(
            try await connection.query("SELECT \(unescaped: Self.columns) FROM photoml.stock_batches WHERE id = \(id)", logger: database.logger)
        ).first
    }

    /// Newest first, optionally at one location or of one product.
    func list(tenant: UUID, location: UUID?, product: UUID?, before cursor: UUID?, limit: Int) async throws -> [StockBatch] {
        try await database.withTenant(tenant) { connection in
            try await Self.batches(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM photoml.stock_batches
                    WHERE (\(location)::uuid IS NULL OR location_id = \(location)) AND (\(product)::uuid IS NULL OR product_id = \(product))
                      AND (\(cursor)::uuid IS NULL OR id < \(cursor))
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// Applies a movement to a batch; a move also adds to the product's batch at the target
    /// location (made when there is none). Answers the batch and its movement.
    func move(
        _ id: UUID, _ request: MovementRequest, reason: String?, actor: String, session: UUID? = nil, expectedVersion: Int?, tenant: UUID
    ) async throws -> (StockBatch, StockMovement) {
        try await database.withTenant(tenant) { connection in
            guard let unlocked = try await fetch(id, on: connection) else { throw InventoryError.notFound }
            var target: StockBatch?
            if case .move(_, let destination) = request {
                guard destination != unlocked.locationId else { throw InventoryError.sameLocation }
                try await InventoryChecks.requireLocation(destination, on: connection, logger: database.logger)
                target = try await Self.batches(
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.columns) FROM photoml.stock_batches
                        WHERE location_id = \(destination) AND product_id = \(unlocked.productId) ORDER BY id DESC LIMIT 1
                        """, logger: database.logger)
                ).first
                if target == nil {
                    target = try await insertBatch(location: destination, product: unlocked.productId, source: .moved, on: connection)
                }
            }
            // Both rows locked in id order, so two opposite moves cannot deadlock.
            let ids = [id] + (target.map { [$0.id] } ?? [])
            let locked = try await Self.batches(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM photoml.stock_batches WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE",
                    logger: database.logger))
            guard let batch = locked.first(where: { $0.id == id }) else { throw InventoryError.notFound }
            if let expectedVersion, expectedVersion != batch.version { throw InventoryError.versionMismatch(current: batch.version) }
            switch request {
            case .arrive(let quantity):
                return try await apply(
                    delta: quantity, kind: .in, to: batch, counterpart: nil, reason: reason, actor: actor, session: session, on: connection)
            case .leave(let quantity):
                guard quantity <= batch.quantity else { throw InventoryError.insufficient(available: batch.quantity) }
                return try await apply(
                    delta: -quantity, kind: .out, to: batch, counterpart: nil, reason: reason, actor: actor, session: session, on: connection)
            case .setTo(let quantity):
                return try await apply(
                    delta: quantity - batch.quantity, kind: .adjustment, to: batch, counterpart: nil, reason: reason, actor: actor, session: session,
                    on: connection)
            case .move(let quantity, _):
                guard quantity <= batch.quantity else { throw InventoryError.insufficient(available: batch.quantity) }
                guard let receiving = locked.first(where: { $0.id != id }) else { throw InventoryError.notFound }
                let result = try await apply(
                    delta: -quantity, kind: .move, to: batch, counterpart: receiving.id, reason: reason, actor: actor, session: session,
                    on: connection)
                _ = try await apply(
                    delta: quantity, kind: .move, to: receiving, counterpart: batch.id, reason: reason, actor: actor, session: session, on: connection
                )
                return result
            }
        }
    }

    /// Accepts a completed session's estimate: the product's batch at the session's location
    /// (made when there is none) is adjusted to it, the movement naming the session. Once.
    func accept(session: UUID, actor: String, tenant: UUID) async throws -> (StockBatch, StockMovement) {
        try await database.withTenant(tenant) { connection in
            var found: (UUID, UUID?, String, String?)?
            for try await row in try await connection.query(
                "SELECT location_id, product_id, state, result::text FROM photoml.photo_sessions WHERE id = \(session) FOR UPDATE",
                logger: database.logger
            ).decode((UUID, UUID?, String, String?).self) {
                found = row
            }
            guard let (location, product, state, resultText) = found else { throw InventoryError.notFound }
            guard state == "completed" || state == "completed_with_warnings" else { throw InventoryError.sessionNotAcceptable("it is \(state)") }
            guard let product else { throw InventoryError.sessionNotAcceptable("it names no product") }
            guard let resultText, let result = try? JSONDecoder().decode(SessionResult.self, from: Data(resultText.utf8)),
                let estimate = result.estimation.best?.count
            else { throw InventoryError.sessionNotAcceptable("it has no estimate (the location has no surface)") }
            for try await _ in try await connection.query(
                "SELECT 1 FROM photoml.stock_movements WHERE session_id = \(session) LIMIT 1", logger: database.logger)
            {
                throw InventoryError.sessionAccepted
            }
            var batch = try await Self.batches(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM photoml.stock_batches
                    WHERE location_id = \(location) AND product_id = \(product) ORDER BY id DESC LIMIT 1 FOR UPDATE
                    """, logger: database.logger)
            ).first
            if batch == nil { batch = try await insertBatch(location: location, product: product, source: .counted, on: connection) }
            guard let batch else { throw InventoryError.notFound }
            return try await apply(
                delta: min(estimate, Self.maxBatchQuantity) - batch.quantity, kind: .adjustment, to: batch, counterpart: nil,
                reason: "photo session \(session.uuidString.lowercased())", actor: actor, session: session, on: connection)
        }
    }

    /// A batch's movements, newest first.
    func movements(of id: UUID, tenant: UUID, before cursor: UUID?, limit: Int) async throws -> [StockMovement] {
        try await database.withTenant(tenant) { connection in
            guard try await fetch(id, on: connection) != nil else { throw InventoryError.notFound }
            return try await Self.movements(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.movementColumns) FROM photoml.stock_movements
                    WHERE batch_id = \(id) AND (\(cursor)::uuid IS NULL OR id < \(cursor)) ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    private func apply(
        delta: Int, kind: MovementKind, to batch: StockBatch, counterpart: UUID?, reason: String?, actor: String, session: UUID?,
        on connection: PostgresConnection
    ) async throws -> (StockBatch, StockMovement) {
        let after = batch.quantity + delta
        guard after <= Self.maxBatchQuantity else { throw InventoryError.tooLarge(limit: Self.maxBatchQuantity) }
        let rows = try await connection.query(
            """
            UPDATE photoml.stock_batches SET quantity = \(after), version = version + 1, updated_at = now()
            WHERE id = \(batch.id) RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        guard let updated = try await Self.batches(rows).first else { throw InventoryError.notFound }
        let movementRows = try await connection.query(
            """
            INSERT INTO photoml.stock_movements (id, tenant_id, batch_id, kind, delta, quantity_before, quantity_after, counterpart_id, reason, actor, session_id)
            SELECT \(UUID.v7()), tenant_id, id, \(kind.rawValue), \(delta), \(batch.quantity), \(after), \(counterpart), \(reason), \(actor), \(session)
            FROM photoml.stock_batches WHERE id = \(batch.id)
            RETURNING \(unescaped: Self.movementColumns)
            """, logger: database.logger)
        guard let movement = try await Self.movements(movementRows).first else { throw InventoryError.notFound }
        return (updated, movement)
    }

    private func insertBatch(location: UUID, product: UUID, source: StockSource, on connection: PostgresConnection) async throws -> StockBatch {
        let rows = try await connection.query(
            """
            INSERT INTO photoml.stock_batches (id, tenant_id, location_id, product_id, quantity, source)
            SELECT \(UUID.v7()), tenant_id, id, \(product), 0, \(source.rawValue) FROM photoml.locations WHERE id = \(location)
            RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        guard let batch = try await Self.batches(rows).first else { throw InventoryError.locationMissing }
        return batch
    }
}
