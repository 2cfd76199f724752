import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Experience

/// Days far in the past, so the shared test database's current partitions are never touched.
@Suite("interaction log partitions", .serialized)
struct PartitionTests {

    func dayName(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = .gmt
        formatter.dateFormat = "yyyyMMdd"
        return "interactions_" + formatter.string(from: date)
    }

    func partitionNames(_ database: Database) async throws -> Set<String> {
        var names: Set<String> = []
        for try await name in try await database.client.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'experience.interactions'::regclass
            """, logger: database.logger
        ).decode(String.self) {
            names.insert(name)
        }
        return names
    }

    @Test("a day's partition made after its events arrived takes them over from the default partition, and old days are dropped")
    func partitionLifecycle() async throws {
        _ = try await ExperienceServer.shared.get()  // its migrations made the tables
        try await withDatabase("experience") { database in
            let partitions = InteractionPartitions(database: database)
            let long = Date().addingTimeInterval(-900 * 86400)
            let tenant = UUID.v7()
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    """
                    INSERT INTO experience.interactions (tenant_id, event_id, user_key, item_key, kind, occurred_at)
                    VALUES (\(tenant), 'early', 'u', 'i', 'view', \(long))
                    """, logger: database.logger
                ).collect().count
            }
            #expect(try await partitionNames(database).contains(dayName(long)) == false)
            try await partitions.maintain(now: long)
            #expect(try await partitionNames(database).contains(dayName(long)))
            let home = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "SELECT tableoid::regclass::text FROM experience.interactions WHERE tenant_id = \(tenant) AND event_id = 'early'",
                    logger: database.logger
                ).collect().first.map { try $0.decode(String.self) }
            }
            #expect(home?.hasSuffix(dayName(long)) == true)
            // 180 days later the day is past the retention and goes, with its rows.
            let dropped = try await partitions.maintain(now: long.addingTimeInterval(200 * 86400))
            #expect(dropped >= 1)
            #expect(try await partitionNames(database).contains(dayName(long)) == false)
            // Tidy up the days the second run made.
            try await partitions.maintain(now: long.addingTimeInterval(500 * 86400))
        }
    }

    @Test("the upkeep forgets event ids older than 8 days, of every tenant, and keeps recent ones")
    func forgetsOldIds() async throws {
        _ = try await ExperienceServer.shared.get()  // its migrations made the tables
        try await withDatabase("experience") { database in
            let partitions = InteractionPartitions(database: database)
            let tenants = [UUID.v7(), UUID.v7()]
            for tenant in tenants {
                _ = try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        """
                        INSERT INTO experience.interaction_ids (tenant_id, event_id, received_at)
                        VALUES (\(tenant), 'old', now() - interval '9 days'), (\(tenant), 'recent', now() - interval '6 days')
                        """, logger: database.logger
                    ).collect().count
                }
            }
            try await partitions.maintain()
            for tenant in tenants {
                let left = try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        "SELECT event_id FROM experience.interaction_ids WHERE tenant_id = \(tenant) ORDER BY event_id", logger: database.logger
                    ).collect().map { try $0.decode(String.self) }
                }
                #expect(left == ["recent"])
            }
        }
    }

    @Test("without the upkeep's word, a transaction cannot delete another tenant's ids, however old")
    func idsStayIsolated() async throws {
        _ = try await ExperienceServer.shared.get()  // its migrations made the tables
        try await withDatabase("experience") { database in
            let tenant = UUID.v7()
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "INSERT INTO experience.interaction_ids (tenant_id, event_id, received_at) VALUES (\(tenant), 'kept', now() - interval '9 days')",
                    logger: database.logger
                ).collect().count
            }
            let deleted = try await database.withTenant(UUID.v7()) { connection in
                try await connection.query("DELETE FROM experience.interaction_ids WHERE event_id = 'kept' RETURNING 1", logger: database.logger)
                    .collect().count
            }
            #expect(deleted == 0)
        }
    }
}
