import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Sources and their fetch bookkeeping.
struct SourceStore: Sendable {
    let database: Database
    /// At most this many sources are queued per scheduler run (every minute).
    static let scheduleBatch = 2000

    static let columns = """
        id, user_key, url, site_url, title, format, state, failures, failing_since, last_error, next_fetch_at, last_fetched_at,
        fetched, not_modified, failed, items_new, created_at, etag, last_modified
        """

    /// Each source with the validators of its last fetch (for the next conditional GET).
    static func sources(_ rows: PostgresRowSequence) async throws -> [(source: Source, etag: String?, lastModified: String?)] {
        var found: [(Source, String?, String?)] = []
        for try await (
            id, user, url, site, title, format, state, failures, failingSince, error, next, last, fetched, notModified, failed, new, created, etag,
            lastModified
        )
            in rows.decode(
                (UUID, String?, String, String?, String, String, String, Int, Date?, String?, Date, Date?, Int, Int, Int, Int, Date, String?, String?)
                    .self)
        {
            let source = Source(
                id: id, userId: user, url: url, siteUrl: site, title: title, format: format, state: Source.State(rawValue: state) ?? .disabled,
                failures: failures, failingSince: failingSince, lastError: error, nextFetchAt: next, lastFetchedAt: last, fetched: fetched,
                notModified: notModified, failed: failed, itemsNew: new, createdAt: created)
            found.append((source, etag, lastModified))
        }
        return found
    }

    /// A source after its first fetch; `duplicateName` when the follower has it already.
    func create(
        url: String, user: String?, title: String, siteURL: String?, format: String, etag: String?, lastModified: String?, tenant: UUID,
        now: Date = Date()
    ) async throws -> Source {
        try await database.withTenant(tenant) { connection in
            do {
                let rows = try await connection.query(
                    """
                    INSERT INTO experience.sources (id, tenant_id, user_key, url, site_url, title, format, etag, last_modified,
                      next_fetch_at, last_fetched_at, fetched)
                    VALUES (\(UUID.v7()), \(tenant), \(user), \(url), \(siteURL), \(title), \(format), \(etag), \(lastModified),
                      \(now.addingTimeInterval(SourceSchedule.interval)), \(now), 0)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.sources(rows).first?.source else { throw ExperienceError.notFound }
                return created
            } catch let error as PSQLError where error.serverInfo?[.constraintName] == "sources_one_per_follower" {
                throw ExperienceError.duplicateName
            }
        }
    }

    /// The user's own sources and the tenant's (nil: every source of the tenant).
    func list(user: String?, tenant: UUID) async throws -> [Source] {
        try await database.withTenant(tenant) { connection in
            try await Self.sources(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM experience.sources
                    WHERE tenant_id = \(tenant) AND (\(user == nil) OR user_key IS NULL OR user_key = \(user ?? ""))
                    ORDER BY created_at DESC LIMIT 500
                    """, logger: database.logger)
            ).map(\.source)
        }
    }

    /// The sources each user reads (the tenant's and their own), by id: 1 for their own, ½ for the tenant's.
    func followed(users: [String], tenant: UUID) async throws -> [String: [String: Double]] {
        try await database.withTenant(tenant) { connection in
            var shared: [String: Double] = [:]
            var own: [String: [String: Double]] = [:]
            for try await (id, user) in try await connection.query(
                """
                SELECT id, user_key FROM experience.sources
                WHERE tenant_id = \(tenant) AND (user_key IS NULL OR user_key = ANY(\(users)))
                """, logger: database.logger
            ).decode((UUID, String?).self) {
                let key = id.uuidString.lowercased()
                if let user { own[user, default: [:]][key] = 1 } else { shared[key] = 0.5 }
            }
            return Dictionary(uniqueKeysWithValues: users.map { user in (user, shared.merging(own[user] ?? [:]) { max($0, $1) }) })
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> (source: Source, etag: String?, lastModified: String?) {
        try await database.withTenant(tenant) { connection in
            guard
                let found = try await Self.sources(
                    try await connection.query(
                        "SELECT \(unescaped: Self.columns) FROM experience.sources WHERE tenant_id = \(tenant) AND id = \(id)",
                        logger: database.logger)
                ).first
            else { throw ExperienceError.notFound }
            return found
        }
    }

    func delete(_ id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "DELETE FROM experience.sources WHERE tenant_id = \(tenant) AND id = \(id) RETURNING id", logger: database.logger)
            guard try await rows.collect().count == 1 else { throw ExperienceError.notFound }
        }
    }

    /// The user's "fetch it now": active again if it was disabled, and a fetch queued (nil when
    /// one is queued already).
    func requestFetch(_ id: UUID, tenant: UUID) async throws -> Int64? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "UPDATE experience.sources SET state = 'active' WHERE tenant_id = \(tenant) AND id = \(id) RETURNING id", logger: database.logger)
            guard try await rows.collect().count == 1 else { throw ExperienceError.notFound }
            return try await JobQueue(schema: "experience").enqueue(
                ExperienceJobs.fetch, FetchArguments(sourceId: id), tenant: tenant, options: .init(uniqueKey: "fetch:\(id.uuidString.lowercased())"),
                on: connection)
        }
    }

    /// Every tenant's due sources, pushed a fetch interval ahead and queued as fetch jobs, in
    /// one transaction: a source is queued once per interval whatever the replicas.
    func scheduleDue(now: Date = Date()) async throws -> Int {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'sources', true)", logger: database.logger)
            var due: [(tenant: UUID, arguments: FetchArguments)] = []
            for try await (id, tenant) in try await connection.query(
                """
                UPDATE experience.sources SET next_fetch_at = \(now.addingTimeInterval(SourceSchedule.interval))
                WHERE id IN (
                  SELECT id FROM experience.sources WHERE state = 'active' AND next_fetch_at <= \(now)
                  ORDER BY next_fetch_at LIMIT \(Self.scheduleBatch) FOR UPDATE SKIP LOCKED)
                RETURNING id, tenant_id
                """, logger: database.logger
            ).decode((UUID, UUID).self) {
                due.append((tenant, FetchArguments(sourceId: id)))
            }
            try await JobQueue(schema: "experience").enqueueMany(ExperienceJobs.fetch, due, on: connection)
            return due.count
        }
    }

    /// A fetch that worked (or found nothing changed).
    func recordSuccess(
        _ id: UUID, notModified: Bool, etag: String?, lastModified: String?, movedTo: String?, tenant: UUID, now: Date = Date()
    ) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE experience.sources SET failures = 0, failing_since = NULL, last_error = NULL, last_fetched_at = \(now),
                  next_fetch_at = \(now.addingTimeInterval(SourceSchedule.interval)),
                  etag = CASE WHEN \(notModified) THEN etag ELSE \(etag) END,
                  last_modified = CASE WHEN \(notModified) THEN last_modified ELSE \(lastModified) END,
                  url = coalesce(\(movedTo), url),
                  fetched = fetched + CASE WHEN \(notModified) THEN 0 ELSE 1 END,
                  not_modified = not_modified + CASE WHEN \(notModified) THEN 1 ELSE 0 END
                WHERE tenant_id = \(tenant) AND id = \(id)
                """, logger: database.logger)
        }
    }

    /// A fetch that failed: the next one waits longer; failing for a week disables the source.
    func recordFailure(_ id: UUID, reason: String, tenant: UUID, now: Date = Date()) async throws {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT failures, failing_since FROM experience.sources WHERE tenant_id = \(tenant) AND id = \(id) FOR UPDATE",
                logger: database.logger)
            for try await (failures, failingSince) in rows.decode((Int, Date?).self) {
                let since = failingSince ?? now
                let disable = SourceSchedule.givesUp(failingSince: since, now: now)
                try await connection.query(
                    """
                    UPDATE experience.sources SET failures = failures + 1, failing_since = \(since), last_error = \(reason),
                      failed = failed + 1, last_fetched_at = \(now), state = CASE WHEN \(disable) THEN 'disabled' ELSE state END,
                      next_fetch_at = \(SourceSchedule.afterFailure(failures: failures + 1, now: now))
                    WHERE tenant_id = \(tenant) AND id = \(id)
                    """, logger: database.logger)
            }
        }
    }
}

struct FetchArguments: Codable, Sendable {
    var sourceId: UUID
}
