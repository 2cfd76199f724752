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
        /// The learned reranker's weights, by `RankingFeatures.names`, and the pairs it learned from.
        var rerankerWeights: [Double]
        var rerankerPairs: Int
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

    /// The users scored, by id: every other user with held items (at most `sampleUsers`).
    var evaluated: [Int32] { sample(offset: 0) }
    /// The others: the learned reranker is fitted on them, never on those it is scored on.
    var tuning: [Int32] { sample(offset: 1) }

    private func sample(offset: Int) -> [Int32] {
        let users = split.held.keys.sorted()
        let stride = max(2, users.count / sampleUsers / 2 * 2)
        return Array(users.enumerated().filter { $0.offset % stride == offset }.map(\.element).prefix(sampleUsers))
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
        let reranker = learnedReranker(als: als, popularity: popularity)
        let results = [
            evaluate("popularity", users: users) { _ in popularity },
            evaluate("heuristic", users: users) { user in features(user, als: als, popularity: popularity).map { Float($0.score(RankingWeights())) }
            },
            evaluate("als", users: users) { user in (0..<dataset.parameters.items).map { als.score(user: Int(user), item: $0) } },
            evaluate("learned", users: users) { user in features(user, als: als, popularity: popularity).map { Float(reranker.model.score($0)) } },
        ]
        return Report(
            k: k, users: dataset.parameters.users, interactions: dataset.interactions.count, evaluatedUsers: users.count,
            alsParameters: parameters, alsTrainingSeconds: seconds, rerankerWeights: reranker.model.weights, rerankerPairs: reranker.pairs,
            results: results)
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

    /// What the "for you" ranking knows of every item for `user` as of their cutoff: category
    /// affinity (all and this part of the day) from their training interactions, freshness,
    /// popularity (share of the most popular), and ALS's predicted preference.
    func features(_ user: Int32, als: ImplicitALS, popularity: [Float]) -> [RankingFeatures] {
        guard let cutoff = split.cutoff[user] else { return [] }
        let entries = (trainByUser[user] ?? []).reversed().map { interaction in
            UserProfile.Entry(
                itemKey: String(interaction.item), kind: interaction.kind, progress: nil, occurredAt: interaction.at, title: nil,
                categories: [String(dataset.categories[Int(interaction.item)])], provider: nil)
        }
        let profile = UserProfile(entries: entries, now: cutoff)
        let daypart = UserProfile.daypart(of: cutoff, in: .gmt)
        let halfLife = RankingWeights().freshnessHalfLifeHours
        // Each planted item has one category: its affinities are its category's.
        let affinities = (0..<dataset.parameters.categories).map { Scoring.affinity(categories: [String($0)], profile: profile.categories) }
        let ofDaypart = (0..<dataset.parameters.categories).map { Scoring.affinity(categories: [String($0)], profile: profile.dayparts[daypart]) }
        let most = Double(popularity.max() ?? 1)
        return (0..<dataset.parameters.items).map { item in
            RankingFeatures(
                affinity: affinities[dataset.categories[item]],
                freshness: Scoring.freshness(published: dataset.published[item], now: cutoff, halfLifeHours: halfLife),
                popularity: Double(popularity[item]) / most,
                collaborative: Double(min(max(als.score(user: Int(user), item: item), 0), 1)), timeOfDay: ofDaypart[dataset.categories[item]])
        }
    }

    /// The reranker fitted on the tuning users: each item they went on to touch against items
    /// drawn at random among those they did not. (Taking the heuristic's best as negatives
    /// teaches the opposite of the heuristic: its picks that missed outnumber the held items.)
    func learnedReranker(als: ImplicitALS, popularity: [Float]) -> PairwiseReranker.Training {
        var random = SeededRandom(seed: 11)
        var pairs: [(better: RankingFeatures, worse: RankingFeatures)] = []
        for user in tuning {
            guard let held = split.held[user], let cutoff = split.cutoff[user] else { continue }
            let all = features(user, als: als, popularity: popularity)
            let seen = Set((trainByUser[user] ?? []).map(\.item))
            let rankable = { (item: Int) in !seen.contains(Int32(item)) && dataset.published[item] <= cutoff }
            let positives = held.map(Int.init).filter(rankable)
            var negatives: [Int] = []
            for _ in 0..<50 {
                let item = Int.random(in: 0..<all.count, using: &random)
                if rankable(item) && !held.contains(Int32(item)) { negatives.append(item) }
            }
            for positive in positives { for negative in negatives { pairs.append((all[positive], all[negative])) } }
        }
        return PairwiseReranker.train(pairs: pairs)
    }
}
