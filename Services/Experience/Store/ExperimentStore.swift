import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The experiments' SQL: their lifecycle, exposures, and results counted from the log.
struct ExperimentStore: Sendable {
    let database: Database

    static let columns = "id, name, description, variants::text, state, winner, version, created_at, started_at, stopped_at"

    static func experiments(_ rows: PostgresRowSequence) async throws -> [Experiment] {
        var found: [Experiment] = []
        for try await (id, name, description, variants, state, winner, version, created, started, stopped) in rows.decode(
            (UUID, String, String, String, String, String?, Int, Date, Date?, Date?).self)
        {
            found.append(
                Experiment(
                    id: id, name: name, description: description,
                    variants: (try? PlatformJSON.decoder.decode([Experiment.Variant].self, from: Data(variants.utf8))) ?? [],
                    state: Experiment.State(rawValue: state) ?? .stopped, winner: winner, version: version, createdAt: created, startedAt: started,
                    stoppedAt: stopped))
        }
        return found
    }

    func create(_ experiment: Experiment, tenant: UUID) async throws -> Experiment {
        let variants = String(decoding: try PlatformJSON.encoder.encode(experiment.variants), as: UTF8.self)
        return try await database.withTenant(tenant) { connection in
            do {
                let rows = try await connection.query(
                    """
                    INSERT INTO experience.experiments (id, tenant_id, name, description, variants)
                    VALUES (\(experiment.id), \(tenant), \(experiment.name), \(experiment.description), \(variants)::jsonb)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let created = try await Self.experiments(rows).first else { throw ExperienceError.notFound }
                return created
            } catch let error as PSQLError where error.serverInfo?[.constraintName] == "experiments_name" {
                throw ExperienceError.duplicateName
            }
        }
    }

    func list(tenant: UUID) async throws -> [Experiment] {
        try await database.withTenant(tenant) { connection in
            try await Self.experiments(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM experience.experiments WHERE tenant_id = \(tenant) ORDER BY created_at DESC LIMIT 100",
                    logger: database.logger))
        }
    }

    func get(_ id: UUID, tenant: UUID) async throws -> Experiment {
        try await database.withTenant(tenant) { connection in
            guard
                let found = try await Self.experiments(
                    try await connection.query(
                        "SELECT \(unescaped: Self.columns) FROM experience.experiments WHERE tenant_id = \(tenant) AND id = \(id)",
                        logger: database.logger)
                ).first
            else { throw ExperienceError.notFound }
            return found
        }
    }

    /// The experiment shaping the tenant's home feed now, if any.
    func running(tenant: UUID) async throws -> Experiment? {
        try await database.withTenant(tenant) { connection in
            try await Self.experiments(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM experience.experiments WHERE tenant_id = \(tenant) AND state = 'running'",
                    logger: database.logger)
            ).first
        }
    }

    /// draft → running (one at a time per tenant), running → stopped (with a winner, or none).
    func move(_ id: UUID, to state: Experiment.State, winner: String? = nil, tenant: UUID) async throws -> Experiment {
        try await database.withTenant(tenant) { connection in
            let current = try await Self.experiments(
                try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM experience.experiments WHERE tenant_id = \(tenant) AND id = \(id) FOR UPDATE",
                    logger: database.logger)
            ).first
            guard let current else { throw ExperienceError.notFound }
            switch (current.state, state) {
            case (.draft, .running), (.running, .stopped): break
            default: throw ExperienceError.illegalTransition(current.state.rawValue, state.rawValue)
            }
            if let winner, !current.variants.contains(where: { $0.name == winner }) { throw ExperienceError.unknownVariant(winner) }
            do {
                let rows = try await connection.query(
                    """
                    UPDATE experience.experiments SET state = \(state.rawValue), winner = \(winner), version = version + 1,
                      started_at = CASE WHEN \(state.rawValue) = 'running' THEN now() ELSE started_at END,
                      stopped_at = CASE WHEN \(state.rawValue) = 'stopped' THEN now() ELSE stopped_at END
                    WHERE tenant_id = \(tenant) AND id = \(id)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
                guard let moved = try await Self.experiments(rows).first else { throw ExperienceError.notFound }
                return moved
            } catch let error as PSQLError where error.serverInfo?[.constraintName] == "experiments_one_running" {
                throw ExperienceError.anotherRunning
            }
        }
    }

    /// A running experiment cannot be deleted: stop it first.
    func delete(_ id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            let state = try await connection.query(
                "DELETE FROM experience.experiments WHERE tenant_id = \(tenant) AND id = \(id) AND state <> 'running' RETURNING state",
                logger: database.logger
            ).collect().first
            if state != nil { return }
            let exists = try await connection.query(
                "SELECT 1 FROM experience.experiments WHERE tenant_id = \(tenant) AND id = \(id)", logger: database.logger
            ).collect().first
            throw exists == nil ? ExperienceError.notFound : ExperienceError.illegalTransition("running", "deleted")
        }
    }

    /// Notes the user's first sight of their variant; later ones change nothing.
    func expose(_ experiment: UUID, user: String, variant: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            _ = try await connection.query(
                """
                INSERT INTO experience.exposures (tenant_id, experiment_id, user_key, variant)
                VALUES (\(tenant), \(experiment), \(user), \(variant)) ON CONFLICT DO NOTHING
                """, logger: database.logger
            ).collect()
        }
    }

    /// Views, clicks and saves of each exposed user from their first exposure until the
    /// experiment stopped.
    func results(_ experiment: Experiment, tenant: UUID) async throws -> ExperimentResults {
        try await database.withTenant(tenant) { connection in
            var perVariant: [String: (users: Int, views: Int, clicks: Int, saves: [Int])] = [:]
            for try await (variant, views, clicks, saves) in try await connection.query(
                """
                SELECT e.variant,
                       count(x.*) FILTER (WHERE x.kind = 'view')::int, count(x.*) FILTER (WHERE x.kind = 'click')::int,
                       count(x.*) FILTER (WHERE x.kind = 'save')::int
                FROM experience.exposures e
                LEFT JOIN experience.interactions x
                  ON x.tenant_id = e.tenant_id AND x.user_key = e.user_key AND x.occurred_at >= e.first_seen
                 AND x.occurred_at <= coalesce(\(experiment.stoppedAt), now()) AND x.kind IN ('view', 'click', 'save')
                WHERE e.tenant_id = \(tenant) AND e.experiment_id = \(experiment.id)
                GROUP BY e.variant, e.user_key
                """, logger: database.logger
            ).decode((String, Int, Int, Int).self) {
                var entry = perVariant[variant, default: (0, 0, 0, [])]
                entry.users += 1
                entry.views += views
                entry.clicks += clicks
                entry.saves.append(saves)
                perVariant[variant] = entry
            }
            let variants = experiment.variants.map { variant -> ExperimentResults.VariantResult in
                let entry = perVariant[variant.name, default: (0, 0, 0, [])]
                return .init(
                    name: variant.name, users: entry.users, views: entry.views, clicks: entry.clicks, saves: entry.saves.reduce(0, +),
                    ctr: ExperimentStatistics.wilson(entry.clicks, max(entry.views, entry.clicks)),
                    savesPerUser: ExperimentStatistics.mean(entry.saves, users: entry.users))
            }
            return ExperimentResults(experimentId: experiment.id, variants: variants, decision: ExperimentStatistics.decide(variants))
        }
    }
}
