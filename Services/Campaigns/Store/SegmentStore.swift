import Foundation
import Persistence
import PostgresNIO

/// SQL for segments and the subscribers they match.
struct SegmentStore: Sendable {
    let database: Database

    static let columns = "id, name, expression, version, created_at, updated_at"

    static func segments(_ rows: PostgresRowSequence) async throws -> [Segment] {
        var found: [Segment] = []
        for try await (id, name, expression, version, created, updated) in rows.decode((UUID, String, String, Int, Date, Date).self) {
            found.append(Segment(id: id, name: name, expression: expression, version: version, createdAt: created, updatedAt: updated))
        }
        return found
    }

    /// A matching subscriber query may not hold a connection longer than this.
    static let timeout = "15s"

    func uniqueName<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw CampaignsError.duplicateName
        }
    }

    /// The expression parses and names only the tenant's lists.
    static func check(_ expression: SegmentExpression, on connection: PostgresConnection, logger: Logger) async throws {
        let named = Array(Set(expression.lists))
        guard !named.isEmpty else { return }
        var known: Set<UUID> = []
        for try await id in try await connection.query("SELECT id FROM campaigns.lists WHERE id = ANY(\(named))", logger: logger).decode(UUID.self) {
            known.insert(id)
        }
        let missing = named.filter { !known.contains($0) }
        guard missing.isEmpty else { throw CampaignsError.listsMissing(missing) }
    }

    func create(name: String, expression: String, parsed: SegmentExpression, tenant: UUID) async throws -> Segment {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                try await Self.check(parsed, on: connection, logger: database.logger)
                let rows = try await connection.query(
                    """
                    INSERT INTO campaigns.segments (id, tenant_id, name, expression) VALUES (\(UUID.v7()), \(tenant), \(name), \(expression))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.segments(rows).first else { throw CampaignsError.notFound }
                return created
            }
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Segment {
        try await database.withTenant(tenant) { connection in
            guard let found = try await fetch(id, lock: false, on: connection) else { throw CampaignsError.notFound }
            return found
        }
    }

    func fetch(_ id: UUID, lock: Bool, on connection: PostgresConnection) async throws -> Segment? {
        try await Self.segments(
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM campaigns.segments WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
                logger: database.logger)
        ).first
    }

    func list(tenant: UUID, before cursor: UUID?, limit: Int) async throws -> [Segment] {
        try await database.withTenant(tenant) { connection in
            try await Self.segments(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM campaigns.segments
                    WHERE (\(cursor)::uuid IS NULL OR id < \(cursor)) ORDER BY id DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func update(
        _ id: UUID, name: String?, expression: (String, SegmentExpression)?, tenant: UUID, expectedVersion: Int?
    ) async throws -> Segment {
        try await uniqueName {
            try await database.withTenant(tenant) { connection in
                guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
                if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
                if let (_, parsed) = expression { try await Self.check(parsed, on: connection, logger: database.logger) }
                let rows = try await connection.query(
                    """
                    UPDATE campaigns.segments SET name = \(name ?? current.name), expression = \(expression?.0 ?? current.expression),
                      version = version + 1, updated_at = now()
                    WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let updated = try await Self.segments(rows).first else { throw CampaignsError.notFound }
                return updated
            }
        }
    }

    func delete(_ id: UUID, tenant: UUID, expectedVersion: Int?) async throws {
        try await database.withTenant(tenant) { connection in
            guard let current = try await fetch(id, lock: true, on: connection) else { throw CampaignsError.notFound }
            if let expectedVersion, expectedVersion != current.version { throw CampaignsError.versionMismatch(current: current.version) }
            try await connection.query("DELETE FROM campaigns.segments WHERE id = \(id)", logger: database.logger)
        }
    }

    /// How many of the tenant's subscribers match, and the newest of them (a page).
    func matching(_ expression: SegmentExpression, tenant: UUID, before cursor: UUID?, limit: Int) async throws -> (Int, [Subscriber]) {
        try await database.withTenant(tenant) { connection in
            try await Self.check(expression, on: connection, logger: database.logger)
            try await connection.query("SET LOCAL statement_timeout = '\(unescaped: Self.timeout)'", logger: database.logger)
            let condition = SegmentSQL.condition(expression)
            var count = 0
            for try await total in try await connection.query(
                condition.query { _ in "SELECT count(*)::int FROM campaigns.subscribers s WHERE \(condition.text)" }, logger: database.logger
            ).decode(Int.self) {
                count = total
            }
            let page = try await SubscriberStore.subscribers(
                try await connection.query(
                    condition.query { sql in
                        let before = cursor.map { "AND s.id < \(sql.bind($0))" } ?? ""
                        return """
                            SELECT \(SubscriberStore.columns) FROM campaigns.subscribers s WHERE \(condition.text) \(before)
                            ORDER BY s.id DESC LIMIT \(sql.bind(limit))
                            """
                    }, logger: database.logger))
            return (count, page)
        }
    }
}
