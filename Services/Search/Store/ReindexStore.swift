import Foundation
import Jobs
import Messaging
import Persistence
import PostgresNIO
import ServiceKit

/// SQL for reindex runs and index generations.
struct ReindexStore: Sendable {
    let database: Database
    let queue = JobQueue(schema: "search")
    /// A tenant's reindex replays the source topics of every tenant (they are keyed by
    /// entity, not tenant) on a queue that runs one at a time: after one has switched, the
    /// tenant waits this long before the next, so no tenant can keep the queue busy.
    var cooldown = 3600

    struct Run: Codable, Sendable, Equatable {
        var id: UUID
        /// nil: every tenant.
        var tenantId: UUID?
        var state: String
        var events: Int
        var positions: [ReplayPosition]
        var error: String?
        var startedAt: Date
        var finishedAt: Date?
    }

    /// One partition of a replay: where it is and the high watermark it must reach.
    struct ReplayPosition: Codable, Sendable, Equatable {
        var topic: String
        var partition: Int32
        var position: Int64?
        var target: Int64?
    }

    enum StartOutcome {
        case started(Run)
        case alreadyRunning(Run)
        case coolingDown(seconds: Int)
    }

    /// Opens a building generation for the tenant (or for every indexed tenant) and
    /// enqueues the replay job, unless a run that overlaps is going on.
    func start(tenant: UUID?, requestedBy: UUID) async throws -> StartOutcome {
        try await database.withTransaction { connection in
            // One start at a time, so two requests cannot both find nothing running.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('search.reindex'))", logger: database.logger)
            let running = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM search.reindexes
                WHERE state = 'replaying' AND (tenant_id IS NULL OR \(tenant)::uuid IS NULL OR tenant_id = \(tenant))
                LIMIT 1
                """, logger: database.logger)
            for try await row in running { return .alreadyRunning(try Self.run(row.makeRandomAccess())) }
            if let tenant {
                // A failed run does not count: the retry after it is not the tenant's doing.
                let recent = try await connection.query(
                    """
                    SELECT ceil(EXTRACT(EPOCH FROM max(finished_at) + make_interval(secs => \(cooldown)) - now()))::int FROM search.reindexes
                    WHERE tenant_id = \(tenant) AND state = 'switched' AND finished_at > now() - make_interval(secs => \(cooldown))
                    """, logger: database.logger)
                for try await seconds in recent.decode(Int?.self) {
                    if let seconds, seconds > 0 { return .coolingDown(seconds: seconds) }
                }
            }
            let id = UUID.v7()
            if let tenant {
                try await connection.query(
                    "INSERT INTO search.generations (tenant_id, generation, state, live_since) VALUES (\(tenant), 1, 'live', now()) ON CONFLICT DO NOTHING",
                    logger: database.logger)
            }
            try await connection.query(
                """
                INSERT INTO search.generations (tenant_id, generation, state, reindex_id)
                SELECT tenant_id, max(generation) + 1, 'building', \(id) FROM search.generations
                WHERE \(tenant)::uuid IS NULL OR tenant_id = \(tenant)
                GROUP BY tenant_id
                """, logger: database.logger)
            let startedAt = Date()
            try await connection.query(
                """
                INSERT INTO search.reindexes (id, tenant_id, state, requested_by, started_at)
                VALUES (\(id), \(tenant), 'replaying', \(requestedBy), \(startedAt))
                """, logger: database.logger)
            try await queue.enqueue(SearchJobs.reindex, ReindexArguments(reindexId: id), tenant: tenant, on: connection)
            return .started(
                Run(id: id, tenantId: tenant, state: "replaying", events: 0, positions: [], error: nil, startedAt: startedAt, finishedAt: nil))
        }
    }

    func run(_ id: UUID) async throws -> Run? {
        for try await row in try await database.query(
            "SELECT \(unescaped: Self.columns) FROM search.reindexes WHERE id = \(id)", logger: database.logger)
        {
            return try Self.run(row.makeRandomAccess())
        }
        return nil
    }

    /// The latest runs that concern the tenant (its own and every-tenant runs).
    func runs(tenant: UUID?, limit: Int) async throws -> [Run] {
        var runs: [Run] = []
        for try await row in try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM search.reindexes
            WHERE \(tenant)::uuid IS NULL OR tenant_id IS NULL OR tenant_id = \(tenant)
            ORDER BY started_at DESC LIMIT \(limit)
            """, logger: database.logger)
        {
            runs.append(try Self.run(row.makeRandomAccess()))
        }
        return runs
    }

    func progress(_ id: UUID, events: Int, positions: [ReplayPosition]) async throws {
        let json = String(decoding: try JSONEncoder().encode(positions), as: UTF8.self)
        try await database.query(
            "UPDATE search.reindexes SET events = events + \(events), positions = \(json)::jsonb WHERE id = \(id)", logger: database.logger)
    }

    /// The switch: in one transaction the run's building generations become live and the
    /// ones they replace retire; then the retired rows are deleted. A run that is no longer
    /// replaying (it failed meanwhile) switches nothing.
    func switchOver(_ id: UUID) async throws {
        let switched = try await database.withTransaction { connection -> Bool in
            let claimed = try await connection.query(
                "UPDATE search.reindexes SET state = 'switched', finished_at = now() WHERE id = \(id) AND state = 'replaying' RETURNING 1",
                logger: database.logger)
            var found = false
            for try await _ in claimed { found = true }
            guard found else { return false }
            try await connection.query(
                """
                UPDATE search.generations g SET state = 'retired'
                WHERE g.state = 'live' AND g.tenant_id IN (SELECT tenant_id FROM search.generations WHERE reindex_id = \(id) AND state = 'building')
                """, logger: database.logger)
            try await connection.query(
                "UPDATE search.generations SET state = 'live', live_since = now() WHERE reindex_id = \(id) AND state = 'building'",
                logger: database.logger)
            return true
        }
        if switched { try await database.query("SELECT search.purge_retired_generations()", logger: database.logger) }
    }

    /// Abandons the run: its building generations are dropped, the live ones stay.
    func fail(_ id: UUID, error: String) async throws {
        try await database.withTransaction { connection in
            try await connection.query(
                "UPDATE search.generations SET state = 'retired' WHERE reindex_id = \(id) AND state = 'building'", logger: database.logger)
            try await connection.query(
                "UPDATE search.reindexes SET state = 'failed', error = \(error), finished_at = now() WHERE id = \(id) AND state = 'replaying'",
                logger: database.logger)
        }
        try await database.query("SELECT search.purge_retired_generations()", logger: database.logger)
    }

    struct Generations: Codable, Sendable, Equatable {
        var live: Int
        var liveSince: Date?
        var building: Int?
    }

    func generations(tenant: UUID) async throws -> Generations {
        var result = Generations(live: 1, liveSince: nil, building: nil)
        for try await (generation, state, since) in try await database.query(
            "SELECT generation, state, live_since FROM search.generations WHERE tenant_id = \(tenant) AND state IN ('live', 'building')",
            logger: database.logger
        ).decode((Int, String, Date?).self) {
            if state == "live" {
                result.live = generation
                result.liveSince = since
            } else {
                result.building = generation
            }
        }
        return result
    }

    static let columns = "id, tenant_id, state, events, positions::text, error, started_at, finished_at"

    static func run(_ columns: PostgresRandomAccessRow) throws -> Run {
        Run(
            id: try columns[0].decode(UUID.self), tenantId: try columns[1].decode(UUID?.self), state: try columns[2].decode(String.self),
            events: try columns[3].decode(Int.self),
            positions: try JSONDecoder().decode([ReplayPosition].self, from: Data(try columns[4].decode(String.self).utf8)),
            error: try columns[5].decode(String?.self), startedAt: try columns[6].decode(Date.self), finishedAt: try columns[7].decode(Date?.self))
    }
}
