import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// Runs in the experience schema, which has no tables of its own yet.
@Suite("migrations", .serialized)
struct MigratorTests {
    @Test("migrations apply once, in order, with dollar-quoted bodies and comments")
    func appliesOnce() async throws {
        try await withDatabase("experience") { database in
            let name = "probe_\(UInt32.random(in: 0...UInt32.max))"
            let migrations = [
                Migration(
                    version: "9001_\(name)",
                    sql: """
                        -- a comment; with a semicolon
                        CREATE TABLE \(name) (id int, note text DEFAULT 'a;b');
                        CREATE FUNCTION \(name)_f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
                        """),
                Migration(version: "9002_\(name)", sql: "INSERT INTO \(name) (id) VALUES (1);"),
            ]
            try await Migrator(database: database).migrate(migrations)
            try await Migrator(database: database).migrate(migrations)
            let count = try await database.client.query("SELECT count(*)::int FROM experience.\(unescaped: name)", logger: database.logger)
                .decode(Int.self).first { _ in true }
            #expect(count == 1)
        }
    }

    @Test("an applied migration whose text changed stops start-up")
    func checksum() async throws {
        try await withDatabase("experience") { database in
            let name = "probe_\(UInt32.random(in: 0...UInt32.max))"
            try await Migrator(database: database).migrate([Migration(version: "9003_\(name)", sql: "CREATE TABLE \(name) (id int)")])
            await #expect(throws: MigrationError.self) {
                try await Migrator(database: database).migrate([Migration(version: "9003_\(name)", sql: "CREATE TABLE \(name) (id bigint)")])
            }
        }
    }

    @Test("a failing migration leaves nothing behind and names itself")
    func failureRollsBack() async throws {
        try await withDatabase("experience") { database in
            let name = "probe_\(UInt32.random(in: 0...UInt32.max))"
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(database: database).migrate([
                    Migration(version: "9004_\(name)", sql: "CREATE TABLE \(name) (id int); SELECT * FROM no_such_table;")
                ])
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("9004_\(name)"))
            let exists = try await database.client.query("SELECT to_regclass(\("experience." + name)) IS NOT NULL", logger: database.logger)
                .decode(Bool.self).first { _ in true }
            #expect(exists == false)
        }
    }

    @Test("the inbox claims an event id once per consumer")
    func inbox() async throws {
        try await withDatabase("experience") { database in
            try await Migrator(database: database).migrate([])
            let inbox = Inbox(schema: "experience", consumer: "test")
            let id = UUID()
            let first = try await database.withTransaction { try await inbox.claim(eventID: id, topic: "t", on: $0) }
            let second = try await database.withTransaction { try await inbox.claim(eventID: id, topic: "t", on: $0) }
            #expect(first && !second)
        }
    }
}

@Suite("inbox purge")
struct InboxPurgeTests {
    @Test("inbox rows older than the limit go, newer ones stay")
    func purge() async throws {
        try await withDatabase("experience") { database in
            try await Migrator(database: database).migrate([])
            let old = UUID()
            let recent = UUID()
            let consumer = "purge-test-\(UUID().uuidString.prefix(8))"
            _ = try await database.client.query(
                """
                INSERT INTO experience.inbox (event_id, consumer, topic, processed_at)
                VALUES (\(old), \(consumer), 't', now() - interval '31 days'), (\(recent), \(consumer), 't', now() - interval '29 days')
                """, logger: database.logger)
            #expect(try await database.purgeInbox(olderThan: 30) >= 1)
            let left = try await database.client.query(
                "SELECT event_id FROM experience.inbox WHERE consumer = \(consumer)", logger: database.logger
            ).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
            #expect(left == [recent])
        }
    }
}
