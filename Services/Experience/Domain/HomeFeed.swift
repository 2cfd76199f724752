import Foundation

/// One recommended item: the item, its score, and why it is here.
struct Recommendation: Codable, Sendable, Equatable {
    var item: Item
    var score: Double
    var reason: String
    /// Placed by the tenant's sponsored slots; absent otherwise.
    var sponsored: Bool?
    /// What "for you" ranked it by (logged as an impression, not sent).
    var features: RankingFeatures?

    enum CodingKeys: String, CodingKey {
        case item, score, reason, sponsored
    }
}

struct HomeSection: Codable, Sendable, Equatable {
    /// continue_reading, for_you, trending, new_from_sources.
    var name: String
    var title: String
    var items: [Recommendation]
}

struct HomeFeed: Codable, Sendable, Equatable {
    /// The experiment and variant that shaped this feed.
    struct Assignment: Codable, Sendable, Equatable {
        var experimentId: UUID
        var variant: String
    }

    var userId: String
    var sections: [HomeSection]
    /// How "for you" was ranked: heuristic, or learned (the reranker).
    var ranking: String
    var experiment: Assignment?
    var generatedAt: Date
}

/// A candidate as the stores give it: the item and its all-time and recent counts.
struct Candidate: Sendable {
    var item: Item
    var clicks: Int
    var views: Int
    /// Recent engagement (trending): views plus weighted clicks, likes, saves, shares.
    var engagement: Double = 0
    /// The item's factors in the tenant's collaborative model, if it was trained on.
    var factors: Factors?
}

/// Builds the sections from what the stores fetched; no I/O, so every rule is testable.
struct HomeRanking {
    var weights = RankingWeights()
    var perSection = 10
    var now = Date()
    var rules = TenantRules()
    /// When set, "for you" is ranked by the learned reranker instead of the weights.
    var reranker: PairwiseReranker?
    /// Where the user is: which part of their day it is.
    var timeZone = TimeZone.gmt

    /// Whether an item may be recommended at all: active, and not of a blocked provider.
    func shows(_ item: Item) -> Bool { item.status == .active && rules.rules.allows(item) }

    func continueReading(_ profile: UserProfile, items: [String: Item]) -> HomeSection {
        let entries = profile.inProgress.compactMap { entry -> Recommendation? in
            guard let item = items[entry.key], shows(item) else { return nil }
            return Recommendation(item: item, score: Double(entry.percent) / 100, reason: "continue reading: \(entry.percent) % read")
        }
        return HomeSection(name: "continue_reading", title: "Continue reading", items: Array(entries.prefix(perSection)))
    }

    /// By affinity, freshness and popularity, diversified; new items get exploration slots.
    /// A user with no history gets what is popular in each category.
    func forYou(
        _ profile: UserProfile, factors: Factors? = nil, candidates: [Candidate], tenantCTR: Double, random: inout some RandomNumberGenerator
    ) -> HomeSection {
        let eligible = candidates.filter { shows($0.item) && !profile.excluded.contains($0.item.key) }
        let daypart = UserProfile.daypart(of: now, in: timeZone)
        let scored = eligible.map { candidate -> ((Candidate, likeMinded: Bool, features: RankingFeatures), score: Double, categories: Set<String>) in
            let features = RankingFeatures(
                affinity: Scoring.affinity(categories: candidate.item.categories, profile: profile.categories),
                freshness: Scoring.freshness(published: candidate.item.publishedAt, now: now, halfLifeHours: weights.freshnessHalfLifeHours),
                popularity: Popularity.smoothedCTR(clicks: candidate.clicks, views: candidate.views, prior: tenantCTR),
                collaborative: factors?.preference(for: candidate.factors) ?? 0,
                timeOfDay: Scoring.affinity(categories: candidate.item.categories, profile: profile.dayparts[daypart]))
            let score = reranker?.score(features) ?? features.score(weights)
            // Said when the model, more than category match, put the item here.
            let likeMinded =
                features.collaborative >= Self.likeMinded && weights.collaborative * features.collaborative > weights.affinity * features.affinity
            return ((candidate, likeMinded, features), score, Set(candidate.item.categories))
        }
        var picked = Scoring.diversify(scored, count: perSection, lambda: weights.diversity).map { pick, score in
            Recommendation(
                item: pick.0.item, score: score,
                reason: pick.likeMinded ? "readers with tastes like yours read this" : reason(for: pick.0.item, profile), features: pick.features)
        }
        let shown = Set(picked.map(\.item.key))
        let newcomers = eligible.filter { candidate in
            let young = candidate.item.publishedAt.map { now.timeIntervalSince($0) < Exploration.newFor } ?? false
            return young && candidate.views < Exploration.fewViews && !shown.contains(candidate.item.key)
        }
        let explored = Exploration.pick(newcomers.map { ($0.item.key, $0.clicks, $0.views) }, count: Exploration.slots.count, random: &random)
        for (slot, key) in zip(Exploration.slots, explored) {
            guard let candidate = newcomers.first(where: { $0.item.key == key }) else { continue }
            let recommendation = Recommendation(item: candidate.item, score: 0, reason: "new: see whether you like it")
            if picked.count >= perSection { picked.removeLast() }
            picked.insert(recommendation, at: min(slot, picked.count))
        }
        return HomeSection(name: "for_you", title: "For you", items: sponsor(picked, profile))
    }

    /// The tenant's sponsored items at its fixed positions, labelled, each at most once and
    /// none the user read or dismissed; the section keeps its length.
    func sponsor(_ picked: [Recommendation], _ profile: UserProfile) -> [Recommendation] {
        let offers = rules.sponsored.filter { shows($0) && !profile.excluded.contains($0.key) }
        guard !offers.isEmpty else { return picked }
        let keys = Set(offers.map(\.key))
        var placed = picked.filter { !keys.contains($0.item.key) }
        for (position, item) in zip(rules.rules.sponsoredPositions, offers) {
            placed.insert(Recommendation(item: item, score: 0, reason: "sponsored", sponsored: true), at: min(position, placed.count))
        }
        return Array(placed.prefix(perSection))
    }

    /// A predicted preference from which the model's word is worth giving as the reason.
    static let likeMinded = 0.2

    func reason(for item: Item, _ profile: UserProfile) -> String {
        let best = item.categories.max { (profile.categories[$0] ?? 0) < (profile.categories[$1] ?? 0) }
        if let best, profile.categories[best] != nil {
            if let anchor = profile.anchors[best] { return "because you read \"\(anchor)\"" }
            return "because you follow \(best)"
        }
        if let category = item.categories.first { return "popular in \(category)" }
        return "popular now"
    }

    func trending(_ profile: UserProfile, candidates: [Candidate]) -> HomeSection {
        let items = candidates.filter { shows($0.item) && !profile.excluded.contains($0.item.key) }
            .sorted { $0.engagement > $1.engagement }.prefix(perSection)
        let top = items.first?.engagement ?? 1
        return HomeSection(
            name: "trending", title: "Trending",
            items: items.map {
                Recommendation(
                    item: $0.item, score: top > 0 ? $0.engagement / top : 0,
                    reason: $0.item.categories.first.map { "trending in \($0)" } ?? "trending")
            })
    }

    func newFromSources(_ profile: UserProfile, candidates: [Candidate]) -> HomeSection {
        let items = candidates.filter { shows($0.item) && !profile.excluded.contains($0.item.key) && $0.item.provider != nil }
            .prefix(perSection)
        return HomeSection(
            name: "new_from_sources", title: "New from your sources",
            items: items.map {
                Recommendation(
                    item: $0.item,
                    score: Scoring.freshness(published: $0.item.publishedAt, now: now, halfLifeHours: weights.freshnessHalfLifeHours),
                    reason: "new from \($0.item.provider ?? "")")
            })
    }
}
