import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

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

    /// Replaces the tenant's ALS model and factors with `model`'s, under the next version.
    @discardableResult
    func save(
        _ model: ImplicitALS, of data: TrainingData, parameters: ImplicitALS.Parameters, seconds: Double, tenant: UUID
    ) async throws
        -> ModelCard
    {
        let json = try PlatformJSON.decoder.decode(JSONValue.self, from: try PlatformJSON.encoder.encode(parameters))
        return try await database.withTenant(tenant) { connection in
            let saved = try await card(
                .als, json, users: data.users.count, items: data.items.count, interactions: data.entries.count, seconds: seconds, tenant, connection)
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

    /// Stores the card of a new model of `kind` under the next version, and returns it.
    func card(
        _ kind: ModelCard.Kind, _ parameters: JSONValue, users: Int, items: Int, interactions: Int, seconds: Double, _ tenant: UUID,
        _ connection: PostgresConnection
    ) async throws -> ModelCard {
        let previous =
            try await connection.query(
                "SELECT version FROM experience.models WHERE tenant_id = \(tenant) AND kind = \(kind.rawValue) FOR UPDATE", logger: database.logger
            ).collect().first.map { try $0.decode(Int64.self) } ?? 0
        let saved = ModelCard(
            kind: kind, version: previous + 1, trainedAt: Date(), parameters: parameters, users: users, items: items, interactions: interactions,
            trainingSeconds: seconds)
        let json = String(decoding: try PlatformJSON.encoder.encode(parameters), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO experience.models (tenant_id, kind, version, trained_at, parameters, users, items, interactions, training_seconds)
            VALUES (\(tenant), \(kind.rawValue), \(saved.version), \(saved.trainedAt), \(json)::jsonb, \(users), \(items), \(interactions), \(seconds))
            ON CONFLICT (tenant_id, kind) DO UPDATE SET version = excluded.version, trained_at = excluded.trained_at,
              parameters = excluded.parameters, users = excluded.users, items = excluded.items,
              interactions = excluded.interactions, training_seconds = excluded.training_seconds
            """, logger: database.logger)
        return saved
    }

    /// Saves a trained reranker's card; its weights are its parameters.
    @discardableResult
    func save(_ training: PairwiseReranker.Training, users: Int, items: Int, seconds: Double, tenant: UUID) async throws -> ModelCard {
        let weights = Dictionary(uniqueKeysWithValues: zip(RankingFeatures.names, training.model.weights.map(JSONValue.number)))
        let parameters = JSONValue.object(["weights": .object(weights), "accuracy": .number(training.accuracy)])
        return try await database.withTenant(tenant) { connection in
            try await card(.reranker, parameters, users: users, items: items, interactions: training.pairs, seconds: seconds, tenant, connection)
        }
    }

    func models(tenant: UUID) async throws -> [ModelCard] {
        try await database.withTenant(tenant) { connection in
            var cards: [ModelCard] = []
            for try await (kind, version, at, parameters, users, items, interactions, seconds) in try await connection.query(
                """
                SELECT kind, version, trained_at, parameters::text, users, items, interactions, training_seconds
                FROM experience.models WHERE tenant_id = \(tenant) ORDER BY kind
                """, logger: database.logger
            ).decode((String, Int64, Date, String, Int, Int, Int, Double).self) {
                guard let kind = ModelCard.Kind(rawValue: kind) else { continue }
                cards.append(
                    ModelCard(
                        kind: kind, version: version, trainedAt: at,
                        parameters: try PlatformJSON.decoder.decode(JSONValue.self, from: Data(parameters.utf8)), users: users, items: items,
                        interactions: interactions, trainingSeconds: seconds))
            }
            return cards
        }
    }

    /// The tenant's learned reranker, if one was trained.
    func reranker(tenant: UUID) async throws -> PairwiseReranker? {
        guard let card = try await models(tenant: tenant).first(where: { $0.kind == .reranker }),
            case .object(let parameters) = card.parameters, case .object(let weights)? = parameters["weights"]
        else { return nil }
        let values = RankingFeatures.names.map { name -> Double? in
            if case .number(let value)? = weights[name] { return value }
            return nil
        }
        guard values.allSatisfy({ $0 != nil }) else { return nil }
        return PairwiseReranker(weights: values.compactMap { $0 })
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
    /// Queues a training of the tenant's model of `kind`; nil when one is queued or running already.
    func requestTraining(_ kind: ModelCard.Kind, tenant: UUID) async throws -> Int64? {
        try await database.withTenant(tenant) { connection in
            try await JobQueue(schema: "experience").enqueue(
                ExperienceJobs.train, TrainingArguments(kind: kind), tenant: tenant,
                options: .init(uniqueKey: "\(kind.rawValue):\(tenant.uuidString.lowercased())"), on: connection)
        }
    }
}
