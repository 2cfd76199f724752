import Foundation
import Messaging
import Persistence
import PostgresNIO

/// SQL behind the index's health: consumer positions (written by every replica for the
/// partitions it holds) and a tenant's document counts.
struct HealthStore: Sendable {
    let database: Database

    struct ConsumerPartition: Codable, Sendable, Equatable {
        var topic: String
        var partition: Int
        var committed: Int64
        var highWatermark: Int64
        var lag: Int64
        var reportedAt: Date
    }

    /// Partitions whose high watermark is not known yet are left out: no guessed lag.
    func record(consumer: String, _ positions: [PartitionPosition]) async throws {
        let known = positions.filter { $0.highWatermark != nil }
        guard !known.isEmpty else { return }
        try await database.query(
            """
            INSERT INTO search.consumer_positions (consumer, topic, partition, committed, high_watermark)
            SELECT \(consumer), t, p, c, h
            FROM unnest(\(known.map(\.topic))::text[], \(known.map { Int($0.partition) })::int[],
                        \(known.map { $0.committed ?? $0.logStart ?? 0 })::bigint[], \(known.map { $0.highWatermark ?? 0 })::bigint[]) AS x(t, p, c, h)
            ON CONFLICT (consumer, topic, partition) DO UPDATE SET
              committed = EXCLUDED.committed, high_watermark = EXCLUDED.high_watermark, updated_at = now()
            """, logger: database.logger)
    }

    func replayingReindexes() async throws -> Int {
        for try await count in try await database.query(
            "SELECT count(*)::int FROM search.reindexes WHERE state = 'replaying'", logger: database.logger
        ).decode(Int.self) {
            return count
        }
        return 0
    }

    func consumer(_ name: String) async throws -> [ConsumerPartition] {
        var partitions: [ConsumerPartition] = []
        for try await (topic, partition, committed, high, at) in try await database.query(
            """
            SELECT topic, partition, committed, high_watermark, updated_at FROM search.consumer_positions
            WHERE consumer = \(name) ORDER BY topic, partition
            """, logger: database.logger
        ).decode((String, Int, Int64, Int64, Date).self) {
            partitions.append(
                ConsumerPartition(
                    topic: topic, partition: partition, committed: committed, highWatermark: high, lag: max(0, high - committed), reportedAt: at))
        }
        return partitions
    }

    struct TenantDocuments: Sendable {
        var byType: [String: Int]
        var lastIndexedAt: Date?
    }

    /// The tenant's live documents per type and when the newest was written.
    func documents(tenant: UUID) async throws -> TenantDocuments {
        try await database.withTenant(tenant) { connection in
            var result = TenantDocuments(byType: [:], lastIndexedAt: nil)
            var statement = DocumentStore.Statement()
            let sql = """
                SELECT doc_type, count(*) FILTER (WHERE NOT deleted)::int, max(updated_at) FROM search.documents
                WHERE tenant_id = \(try statement.bind(tenant)) AND generation = \(try statement.liveGeneration(tenant)) GROUP BY doc_type
                """
            for try await (type, count, last) in try await connection.query(
                PostgresQuery(unsafeSQL: sql, binds: statement.binds), logger: database.logger
            ).decode((String, Int, Date).self) {
                result.byType[type] = count
                result.lastIndexedAt = max(result.lastIndexedAt ?? last, last)
            }
            return result
        }
    }
}
