import Foundation
import Persistence
import PostgresNIO

/// The tenants' feed rules.
struct FeedRulesStore: Sendable {
    let database: Database

    /// The tenant's rules; none set: the empty rules at version 0.
    func rules(tenant: UUID) async throws -> FeedRules {
        try await database.withTenant(tenant) { connection in
            try await Self.rules(tenant, connection, database.logger)
        }
    }

    /// The rules with the sponsored items they name, as feeds need them.
    func tenantRules(tenant: UUID) async throws -> TenantRules {
        try await database.withTenant(tenant) { connection in
            let rules = try await Self.rules(tenant, connection, database.logger)
            guard !rules.sponsoredItems.isEmpty else { return TenantRules(rules: rules) }
            let items = try await ItemStore.items(
                try await connection.query(
                    "SELECT \(unescaped: ItemStore.columns) FROM experience.items WHERE tenant_id = \(tenant) AND key = ANY(\(rules.sponsoredItems))",
                    logger: database.logger))
            let byKey = Dictionary(uniqueKeysWithValues: items.map { ($0.key, $0) })
            return TenantRules(rules: rules, sponsored: rules.sponsoredItems.compactMap { byKey[$0] })
        }
    }

    static func rules(_ tenant: UUID, _ connection: PostgresConnection, _ logger: Logger) async throws -> FeedRules {
        for try await (positions, items, providers, version, at) in try await connection.query(
            """
            SELECT sponsored_positions, sponsored_items, blocked_providers, version, updated_at
            FROM experience.feed_rules WHERE tenant_id = \(tenant)
            """, logger: logger
        ).decode(([Int], [String], [String], Int, Date).self) {
            return FeedRules(sponsoredPositions: positions, sponsoredItems: items, blockedProviders: providers, version: version, updatedAt: at)
        }
        return FeedRules()
    }

    /// Replaces the rules; `expectedVersion` (If-Match) must be the current one when given.
    func replace(with rules: FeedRules, expectedVersion: Int?, tenant: UUID) async throws -> FeedRules {
        try await database.withTenant(tenant) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('feed_rules:' || \(tenant.uuidString)))", logger: database.logger)
            let current = try await Self.rules(tenant, connection, database.logger)
            if let expectedVersion, expectedVersion != current.version {
                throw ExperienceError.versionMismatch(current: current.version)
            }
            try await connection.query(
                """
                INSERT INTO experience.feed_rules (tenant_id, sponsored_positions, sponsored_items, blocked_providers)
                VALUES (\(tenant), \(rules.sponsoredPositions), \(rules.sponsoredItems), \(rules.blockedProviders))
                ON CONFLICT (tenant_id) DO UPDATE SET sponsored_positions = excluded.sponsored_positions,
                  sponsored_items = excluded.sponsored_items, blocked_providers = excluded.blocked_providers,
                  version = feed_rules.version + 1, updated_at = now()
                """, logger: database.logger)
            return try await Self.rules(tenant, connection, database.logger)
        }
    }
}
