import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO

/// Each tenant's collaborative model: what it is trained on, and its factors.
struct ModelStore: Sendable {
    let database: Database
    /// How far back a training reads the log.
    static let trainingDays = 90
    /// Factors go in by this many rows per statement.
    static let batch = 5000

    /// The tenant's interactions of the last `trainingDays`, summed per user and item with the
    /// profile's kind weights.
    func trainingData(tenant: UUID, now: Date) async throws -> TrainingData {
        try await database.withTenant(tenant) { connection in
            var data = TrainingData()
            var pending: (user: String, item: String, strength: Double)?
            // Ordered by pair so each pair's kinds arrive together and sum in one pass.
            for try await (user, item, kind, halfRead, count) in try await connection.query(
                """
                SELECT user_key, item_key, kind, coalesce(progress >= 50, false), count(*)::int
                FROM experience.interactions
                WHERE tenant_id = \(tenant) AND occurred_at > \(now.addingTimeInterval(-Double(Self.trainingDays) * 86400))
                GROUP BY 1, 2, 3, 4
                ORDER BY 1, 2
                """, logger: database.logger
            ).decode((String, String, String, Bool, Int).self) {
                guard let kind = InteractionKind(rawValue: kind) else { continue }
                let strength = UserProfile.weight(kind, progress: halfRead ? 100 : 0) * Double(count)
                if let current = pending, current.user == user, current.item == item {
                    pending?.strength += strength
                } else {
                    if let current = pending { data.add(user: current.user, item: current.item, strength: current.strength) }
                    pending = (user, item, strength)
                }
            }
            if let current = pending { data.add(user: current.user, item: current.item, strength: current.strength) }
            return data
        }
    }

    /// Replaces the tenant's model and factors with `model`'s, under the next version.
    @discardableResult
    func save(
        _ model: ImplicitALS, of data: TrainingData, parameters: ImplicitALS.Parameters, seconds: Double, tenant: UUID
    ) async throws
        -> CollaborativeModel
    {
        try await database.withTenant(tenant) { connection in
            let previous =
                try await connection.query(
                    "SELECT version FROM experience.models WHERE tenant_id = \(tenant) AND kind = 'als' FOR UPDATE", logger: database.logger
                ).collect().first.map { try $0.decode(Int64.self) } ?? 0
            let saved = CollaborativeModel(
                kind: "als", version: previous + 1, trainedAt: Date(), parameters: parameters, users: data.users.count, items: data.items.count,
                interactions: data.entries.count, trainingSeconds: seconds)
            let json = String(decoding: try PlatformJSON.encoder.encode(parameters), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO experience.models (tenant_id, kind, version, trained_at, parameters, users, items, interactions, training_seconds)
                VALUES (\(tenant), 'als', \(saved.version), \(saved.trainedAt), \(json)::jsonb, \(saved.users), \(saved.items), \(saved.interactions), \(seconds))
                ON CONFLICT (tenant_id, kind) DO UPDATE SET version = excluded.version, trained_at = excluded.trained_at,
                  parameters = excluded.parameters, users = excluded.users, items = excluded.items,
                  interactions = excluded.interactions, training_seconds = excluded.training_seconds
                """, logger: database.logger)
            try await replace(
                "user_factors", key: "user_key", keys: data.users, factors: model.users, k: model.k, version: saved.version, tenant, connection)
            try await replace(
                "item_factors", key: "item_key", keys: data.items, factors: model.items, k: model.k, version: saved.version, tenant, connection)
            return saved
        }
    }

    private func replace(
        _ table: String, key: String, keys: [String], factors: [Float], k: Int, version: Int64, _ tenant: UUID, _ connection: PostgresConnection
    ) async throws {
        try await connection.query("DELETE FROM experience.\(unescaped: table) WHERE tenant_id = \(tenant)", logger: database.logger)
        for start in stride(from: 0, to: keys.count, by: Self.batch) {
            let end = min(start + Self.batch, keys.count)
            let flat = Array(factors[(start * k)..<(end * k)])
            // Row n of the batch takes the n-th k floats of the flat array.
            try await connection.query(
                """
                INSERT INTO experience.\(unescaped: table) (tenant_id, \(unescaped: key), version, factors)
                SELECT \(tenant), t.key, \(version), (\(flat)::real[])[(t.n - 1) * \(k) + 1 : t.n * \(k)]
                FROM unnest(\(Array(keys[start..<end]))::text[]) WITH ORDINALITY AS t(key, n)
                """, logger: database.logger)
        }
    }

    func model(tenant: UUID) async throws -> CollaborativeModel? {
        try await database.withTenant(tenant) { connection in
            for try await (version, at, parameters, users, items, interactions, seconds) in try await connection.query(
                """
                SELECT version, trained_at, parameters::text, users, items, interactions, training_seconds
                FROM experience.models WHERE tenant_id = \(tenant) AND kind = 'als'
                """, logger: database.logger
            ).decode((Int64, Date, String, Int, Int, Int, Double).self) {
                let decoded = try PlatformJSON.decoder.decode(ImplicitALS.Parameters.self, from: Data(parameters.utf8))
                return CollaborativeModel(
                    kind: "als", version: version, trainedAt: at, parameters: decoded, users: users, items: items, interactions: interactions,
                    trainingSeconds: seconds)
            }
            return nil
        }
    }

    /// The user's factors in the tenant's current model, if the user was in its training.
    func userFactors(_ user: String, tenant: UUID) async throws -> Factors? {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                "SELECT version, factors FROM experience.user_factors WHERE tenant_id = \(tenant) AND user_key = \(user)", logger: database.logger
            ).collect().first.map { row in
                let (version, values) = try row.decode((Int64, [Float]).self)
                return Factors(version: version, values: values)
            }
        }
    }
}

extension ModelStore {
    /// Queues a training of the tenant's model; nil when one is queued or running already.
    func requestTraining(tenant: UUID) async throws -> Int64? {
        try await database.withTenant(tenant) { connection in
            try await JobQueue(schema: "experience").enqueue(
                ExperienceJobs.train, UpkeepArguments(), tenant: tenant, options: .init(uniqueKey: "als:\(tenant.uuidString.lowercased())"),
                on: connection)
        }
    }
}
