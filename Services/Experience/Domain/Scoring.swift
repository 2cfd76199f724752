import Foundation

/// How much each component counts in a "for you" score; experiments vary them.
struct RankingWeights: Codable, Sendable, Equatable {
    var affinity = 0.5
    var freshness = 0.3
    var popularity = 0.2
    /// Collaborative filtering: the ALS model's predicted preference.
    var collaborative = 0.3
    /// Category match with what the user reads at this time of day.
    var timeOfDay = 0.2
    /// Hours after which an item's freshness has halved (seed EXP-003).
    var freshnessHalfLifeHours = 24.0
    /// MMR's trade between score and novelty: 1 ranks by score alone.
    var diversity = 0.7

    init(
        affinity: Double = 0.5, freshness: Double = 0.3, popularity: Double = 0.2, collaborative: Double = 0.3, timeOfDay: Double = 0.2,
        freshnessHalfLifeHours: Double = 24,
        diversity: Double = 0.7
    ) {
        self.affinity = affinity
        self.freshness = freshness
        self.popularity = popularity
        self.collaborative = collaborative
        self.timeOfDay = timeOfDay
        self.freshnessHalfLifeHours = freshnessHalfLifeHours
        self.diversity = diversity
    }

    /// Any field left out keeps its default (an experiment names only what it changes).
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RankingWeights()
        affinity = try container.decodeIfPresent(Double.self, forKey: .affinity) ?? defaults.affinity
        freshness = try container.decodeIfPresent(Double.self, forKey: .freshness) ?? defaults.freshness
        popularity = try container.decodeIfPresent(Double.self, forKey: .popularity) ?? defaults.popularity
        collaborative = try container.decodeIfPresent(Double.self, forKey: .collaborative) ?? defaults.collaborative
        timeOfDay = try container.decodeIfPresent(Double.self, forKey: .timeOfDay) ?? defaults.timeOfDay
        freshnessHalfLifeHours = try container.decodeIfPresent(Double.self, forKey: .freshnessHalfLifeHours) ?? defaults.freshnessHalfLifeHours
        diversity = try container.decodeIfPresent(Double.self, forKey: .diversity) ?? defaults.diversity
    }
}

/// The scoring components, each a pure function the tests pin down.
enum Scoring {
    /// Exponential decay: 1 at age 0, ½ at one half-life; future ages count as 0.
    static func decay(age: TimeInterval, halfLife: TimeInterval) -> Double {
        guard halfLife > 0 else { return 0 }
        return pow(0.5, max(age, 0) / halfLife)
    }

    /// Freshness of an item published at `published` (seed EXP-003); an undated item is stale.
    static func freshness(published: Date?, now: Date, halfLifeHours: Double) -> Double {
        guard let published else { return 0 }
        return decay(age: now.timeIntervalSince(published), halfLife: halfLifeHours * 3600)
    }

    /// Category match with the user's profile (seed EXP-002): the share of the user's
    /// category weight that the item's categories hold, 0 to 1.
    static func affinity(categories: [String], profile: [String: Double]) -> Double {
        affinity(distinct: Set(categories), profile: profile, total: profile.values.reduce(0, +))
    }

    /// `affinity` for labels already distinct, with the profile's total weight summed once for many items.
    static func affinity(distinct labels: some Sequence<String>, profile: [String: Double], total: Double) -> Double {
        guard total > 0 else { return 0 }
        return min(1, labels.reduce(0) { $0 + (profile[$1] ?? 0) } / total)
    }

    /// The weighted sum of the components, each already in 0…1.
    static func score(
        affinity: Double, freshness: Double, popularity: Double, collaborative: Double = 0, timeOfDay: Double = 0, weights: RankingWeights
    ) -> Double {
        weights.affinity * affinity + weights.freshness * freshness + weights.popularity * popularity + weights.collaborative * collaborative
            + weights.timeOfDay * timeOfDay
    }

    /// Maximal marginal relevance: picks `count` items, each time the best by
    /// `λ·score − (1−λ)·similarity to those already picked`; similarity is category overlap
    /// (Jaccard). Keeps a feed from being ten items of one category.
    static func diversify<T>(_ candidates: [(T, score: Double, categories: Set<String>)], count: Int, lambda: Double) -> [(T, Double)] {
        var left = candidates
        // Each candidate's greatest similarity to those picked so far, updated by each new pick.
        var similarity = Array(repeating: 0.0, count: left.count)
        var picked: [(T, Double)] = []
        while picked.count < count, !left.isEmpty {
            var best = 0
            var bestValue = -Double.infinity
            for index in left.indices {
                let value = lambda * left[index].score - (1 - lambda) * similarity[index]
                if value > bestValue {
                    bestValue = value
                    best = index
                }
            }
            let chosen = left.remove(at: best)
            similarity.remove(at: best)
            picked.append((chosen.0, chosen.score))
            for index in left.indices { similarity[index] = max(similarity[index], jaccard(chosen.categories, left[index].categories)) }
        }
        return picked
    }

    static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var shared = 0
        for label in small where large.contains(label) { shared += 1 }
        let union = a.count + b.count - shared
        return union == 0 ? 0 : Double(shared) / Double(union)
    }
}
