import Foundation
import Logging
import Persistence
import PostgresNIO

/// Which articles tell the same story: signatures stored with their band hashes, new articles
/// matched against those of the last `window` that share a band, never against all.
struct StoryClusterStore: Sendable {
    let database: Database
    static let window: TimeInterval = 7 * 86400

    /// Puts each new article in the cluster of an earlier one it nearly duplicates (or of one
    /// before it in `articles`), else in a cluster of its own; answers key → cluster key.
    @discardableResult
    func assign(_ articles: [(key: String, text: String)], tenant: UUID, now: Date = Date()) async throws -> [String: String] {
        guard !articles.isEmpty else { return [:] }
        return try await database.withTenant(tenant) { connection in
            try await Self.assign(articles, tenant: tenant, now: now, on: connection, logger: database.logger)
        }
    }

    /// `assign` within the caller's transaction.
    static func assign(
        _ articles: [(key: String, text: String)], tenant: UUID, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String: String] {
        guard !articles.isEmpty else { return [:] }
        let signatures = articles.map { NearDuplicates.signature($0.text) }
        let bands = signatures.map(NearDuplicates.bandHashes)
        // The articles sharing a band, then their signatures: two index lookups whatever the
        // planner knows of rows written moments ago (as one query it could scan every row).
        let sharing = try await connection.query(
            """
            SELECT DISTINCT item_key FROM experience.signature_bands
            WHERE tenant_id = \(tenant) AND band = ANY(\(Array(Set(bands.flatMap { $0 })))::bigint[])
              AND created_at > \(now.addingTimeInterval(-Self.window))
            LIMIT 5000
            """, logger: logger
        ).collect().map { try $0.decode(String.self) }
        var earlier: [(key: String, signature: [UInt64], cluster: String)] = []
        if !sharing.isEmpty {
            for try await (key, signature, cluster) in try await connection.query(
                """
                SELECT item_key, signature, cluster_key FROM experience.item_signatures
                WHERE tenant_id = \(tenant) AND item_key = ANY(\(sharing)::text[])
                """, logger: logger
            ).decode((String, [Int64], String).self) {
                earlier.append((key, signature.map { UInt64(bitPattern: $0) }, cluster))
            }
        }
        var clusters: [String: String] = [:]
        for (index, article) in articles.enumerated() {
            let match =
                earlier.first { NearDuplicates.similarity($0.signature, signatures[index]) >= NearDuplicates.threshold }?.cluster
                ?? articles.indices.prefix(index).first {
                    NearDuplicates.similarity(signatures[$0], signatures[index]) >= NearDuplicates.threshold
                }
                .flatMap { clusters[articles[$0].key] }
            clusters[article.key] = match ?? article.key
        }
        try await connection.query(
            """
            INSERT INTO experience.item_signatures (tenant_id, item_key, signature, cluster_key)
            SELECT \(tenant), t.key,
              (\(signatures.flatMap { $0.map { Int64(bitPattern: $0) } })::bigint[])
                [(t.n - 1) * \(NearDuplicates.permutations) + 1 : t.n * \(NearDuplicates.permutations)], t.cluster
            FROM unnest(\(articles.map(\.key))::text[], \(articles.map { clusters[$0.key] ?? $0.key })::text[]) WITH ORDINALITY AS t(key, cluster, n)
            ON CONFLICT (tenant_id, item_key) DO NOTHING
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO experience.signature_bands (tenant_id, band, item_key, created_at)
            SELECT \(tenant), b.band, b.key, \(now)
            FROM unnest(\(bands.flatMap { $0 })::bigint[], \(articles.flatMap { Array(repeating: $0.key, count: NearDuplicates.bands) })::text[]) AS b(band, key)
            ON CONFLICT DO NOTHING
            """, logger: logger)
        return clusters
    }

    /// Forgets bands older than the window (every tenant's; the hourly upkeep): nothing is matched against them.
    func forgetOldBands() async throws {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'signature_bands', true)", logger: database.logger)
            try await connection.query(
                "DELETE FROM experience.signature_bands WHERE created_at < now() - interval '7 days'", logger: database.logger)
        }
    }

    /// The other articles of the item's story, newest first; nil when the item has no signature.
    func sameStory(as key: String, tenant: UUID) async throws -> (cluster: String, items: [Item])? {
        try await database.withTenant(tenant) { connection in
            guard
                let cluster = try await connection.query(
                    "SELECT cluster_key FROM experience.item_signatures WHERE tenant_id = \(tenant) AND item_key = \(key)", logger: database.logger
                ).collect().first.map({ try $0.decode(String.self) })
            else { return nil }
            let rows = try await connection.query(
                """
                SELECT \(unescaped: FeedStore.itemColumns) FROM experience.item_signatures s
                JOIN experience.items i ON i.tenant_id = s.tenant_id AND i.key = s.item_key
                WHERE s.tenant_id = \(tenant) AND s.cluster_key = \(cluster) AND s.item_key <> \(key)
                ORDER BY i.published_at DESC NULLS LAST LIMIT 50
                """, logger: database.logger)
            return (cluster, try await ItemStore.items(rows))
        }
    }
}
