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

    @Test("the upkeep makes the days around now and drops those past the retention, one by one")
    func partitionLifecycle() async throws {
        _ = try await ExperienceServer.shared.get()  // its migrations made the tables
        try await withDatabase("experience") { database in
            let partitions = InteractionPartitions(database: database)
            let long = Date().addingTimeInterval(-900 * 86400)
            try await partitions.maintain(now: long)
            let names = try await partitionNames(database)
            #expect(names.contains(dayName(long)))
            #expect(names.contains(dayName(long.addingTimeInterval(3 * 86400))))
            #expect(names.contains(dayName(long.addingTimeInterval(-8 * 86400))))
            // 200 days on, those days are past the 180 kept.
            let dropped = try await partitions.maintain(now: long.addingTimeInterval(200 * 86400))
            #expect(dropped >= 12)
            #expect(try await partitionNames(database).contains(dayName(long)) == false)
            // Tidy up the days the second run made.
            try await partitions.maintain(now: long.addingTimeInterval(500 * 86400))
            #expect(try await partitionNames(database).contains(dayName(long.addingTimeInterval(200 * 86400))) == false)
        }
    }

    @Test("a write for a day without a partition makes the day and is recorded")
    func partitionOnDemand() async throws {
        _ = try await ExperienceServer.shared.get()
        try await withDatabase("experience") { database in
            let when = Date().addingTimeInterval(-1200 * 86400)
            #expect(try await partitionNames(database).contains(dayName(when)) == false)
            let tenant = UUID.v7()
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "INSERT INTO experience.items (tenant_id, key, type, title) VALUES (\(tenant), 'i', 'article', 'I')", logger: database.logger
                ).collect().count
            }
            let recorded = try await InteractionStore(database: database).record(
                [Interaction(eventId: "far", userKey: "u", itemKey: "i", kind: .view, progress: nil, occurredAt: when)], tenant: tenant)
            #expect(recorded.interactions.count == 1)
            #expect(try await partitionNames(database).contains(dayName(when)))
            try await InteractionPartitions(database: database).maintain(now: when.addingTimeInterval(400 * 86400))
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
