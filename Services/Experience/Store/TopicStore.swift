import Foundation
import Persistence
import PostgresNIO

/// The tenants' taxonomies.
struct TopicStore: Sendable {
    let database: Database

    static func topics(_ rows: PostgresRowSequence) async throws -> [Topic] {
        var found: [Topic] = []
        for try await (key, name, keywords, version) in rows.decode((String, String, [String], Int).self) {
            found.append(Topic(key: key, name: name, keywords: keywords, version: version))
        }
        return found
    }

    func all(tenant: UUID) async throws -> [Topic] {
        try await database.withTenant(tenant) { connection in
            try await Self.topics(
                try await connection.query(
                    "SELECT key, name, keywords, version FROM experience.topics WHERE tenant_id = \(tenant) ORDER BY key LIMIT \(TopicRules.maxTopics)",
                    logger: database.logger))
        }
    }

    /// Creates or replaces a topic (`expectedVersion`, from If-Match, must match when given); whether it was new.
    func put(_ topic: Topic, expectedVersion: Int?, tenant: UUID) async throws -> (Topic, created: Bool) {
        try await database.withTenant(tenant) { connection in
            let current = try await Self.topics(
                try await connection.query(
                    "SELECT key, name, keywords, version FROM experience.topics WHERE tenant_id = \(tenant) AND key = \(topic.key) FOR UPDATE",
                    logger: database.logger)
            ).first
            if let expectedVersion, expectedVersion != current?.version { throw ExperienceError.versionMismatch(current: current?.version) }
            if current == nil {
                let count =
                    try await connection.query(
                        "SELECT count(*)::int FROM experience.topics WHERE tenant_id = \(tenant)", logger: database.logger
                    ).collect().first.map { try $0.decode(Int.self) } ?? 0
                guard count < TopicRules.maxTopics else { throw ExperienceError.tooMany(TopicRules.maxTopics) }
            }
            let rows = try await connection.query(
                """
                INSERT INTO experience.topics (tenant_id, key, name, keywords) VALUES (\(tenant), \(topic.key), \(topic.name), \(topic.keywords))
                ON CONFLICT (tenant_id, key) DO UPDATE SET name = excluded.name, keywords = excluded.keywords,
                  version = topics.version + 1, updated_at = now()
                RETURNING key, name, keywords, version
                """, logger: database.logger)
            guard let saved = try await Self.topics(rows).first else { throw ExperienceError.notFound }
            return (saved, current == nil)
        }
    }

    func delete(_ key: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "DELETE FROM experience.topics WHERE tenant_id = \(tenant) AND key = \(key) RETURNING key", logger: database.logger)
            guard try await rows.collect().count == 1 else { throw ExperienceError.notFound }
        }
    }
}
