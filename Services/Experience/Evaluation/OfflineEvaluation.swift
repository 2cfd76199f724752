import Foundation

/// Recall@K and NDCG@K of each ranking on a planted dataset's held-out interactions: the
/// popularity baseline, the heuristic "for you" score, and ALS.
struct OfflineEvaluation: Sendable {
    struct Result: Codable, Sendable {
        var model: String
        var recall: Double
        var ndcg: Double
    }

    struct Report: Codable, Sendable {
        var k: Int
        var users: Int
        var interactions: Int
        var evaluatedUsers: Int
        var alsParameters: ImplicitALS.Parameters
        var alsTrainingSeconds: Double
        var results: [Result]
    }

    let dataset: PlantedDataset
    let split: EvaluationSplit
    /// Each user's training interactions.
    let trainByUser: [Int32: [PlantedDataset.Interaction]]
    var k = 20
    /// At most this many users with held items are scored (every n-th by id).
    var sampleUsers = 2000

    init(_ dataset: PlantedDataset, k: Int = 20, sampleUsers: Int = 2000) {
        self.dataset = dataset
        self.split = EvaluationSplit(dataset)
        self.trainByUser = Dictionary(grouping: split.train, by: \.user)
        self.k = k
        self.sampleUsers = sampleUsers
    }

    /// The users scored, by id.
    var evaluated: [Int32] {
        let users = split.held.keys.sorted()
        let stride = max(1, users.count / sampleUsers)
        return Array(users.enumerated().filter { $0.offset % stride == 0 }.map(\.element).prefix(sampleUsers))
    }

    /// What the training interactions are worth, as the profile weighs kinds.
    var matrix: InteractionMatrix {
        InteractionMatrix(
            users: dataset.parameters.users, items: dataset.parameters.items,
            entries: split.train.map { ($0.user, $0.item, Float(UserProfile.weight($0.kind, progress: nil))) })
    }

    func run(als parameters: ImplicitALS.Parameters) -> Report {
        let matrix = matrix
        let started = Date()
        let als = ImplicitALS.train(matrix, parameters)
        let seconds = Date().timeIntervalSince(started)
        var popularity = [Float](repeating: 0, count: dataset.parameters.items)
        for item in matrix.byItem.starts.indices.dropLast() {
            popularity[item] = Float(matrix.byItem.starts[item + 1] - matrix.byItem.starts[item])
        }
        let users = evaluated
        let results = [
            evaluate("popularity", users: users) { _ in popularity },
            evaluate("heuristic", users: users) { heuristic($0, popularity: popularity) },
            evaluate("als", users: users) { user in (0..<dataset.parameters.items).map { als.score(user: Int(user), item: $0) } },
        ]
        return Report(
            k: k, users: dataset.parameters.users, interactions: dataset.interactions.count, evaluatedUsers: users.count,
            alsParameters: parameters, alsTrainingSeconds: seconds, results: results)
    }

    /// Mean recall and NDCG over `users`; items the user already touched, or published after
    /// the user's held-out interactions begin, are not ranked.
    func evaluate(_ model: String, users: [Int32], scores: (Int32) -> [Float]) -> Result {
        var recall = 0.0
        var ndcg = 0.0
        for user in users {
            guard let held = split.held[user], let cutoff = split.cutoff[user] else { continue }
            let seen = Set((trainByUser[user] ?? []).map(\.item))
            let ranked = RankingMetrics.top(scores(user), k: k) { seen.contains(Int32($0)) || dataset.published[$0] > cutoff }
            recall += RankingMetrics.recall(ranked, held: held, k: k)
            ndcg += RankingMetrics.ndcg(ranked, held: held, k: k)
        }
        let count = Double(max(users.count, 1))
        return Result(model: model, recall: recall / count, ndcg: ndcg / count)
    }

    /// The "for you" score of every item for `user` as of their cutoff: category affinity
    /// from their training interactions, freshness, popularity (share of the most popular).
    func heuristic(_ user: Int32, popularity: [Float]) -> [Float] {
        guard let cutoff = split.cutoff[user] else { return popularity }
        var profile: [String: Double] = [:]
        for interaction in trainByUser[user] ?? [] {
            let decay = Scoring.decay(age: cutoff.timeIntervalSince(interaction.at), halfLife: UserProfile.halfLife)
            profile[String(dataset.categories[Int(interaction.item)]), default: 0] += UserProfile.weight(interaction.kind, progress: nil) * decay
        }
        let weights = RankingWeights()
        let most = Double(popularity.max() ?? 1)
        // Each planted item has one category: its affinity is its category's.
        let affinities = (0..<dataset.parameters.categories).map { Scoring.affinity(categories: [String($0)], profile: profile) }
        return (0..<dataset.parameters.items).map { item in
            let affinity = affinities[dataset.categories[item]]
            let freshness = Scoring.freshness(published: dataset.published[item], now: cutoff, halfLifeHours: weights.freshnessHalfLifeHours)
            return Float(Scoring.score(affinity: affinity, freshness: freshness, popularity: Double(popularity[item]) / most, weights: weights))
        }
    }
}
