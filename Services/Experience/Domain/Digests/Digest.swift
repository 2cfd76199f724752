import Foundation

/// One user's digest of one day and the articles it held, grouped by topic.
struct Digest: Codable, Sendable, Equatable {
    struct Article: Codable, Sendable, Equatable {
        var key: String
        var title: String
        var url: String?
        var summary: String?
        var topic: String
        var provider: String?
    }

    var id: UUID
    var userId: String
    var localDate: String
    var scheduledAt: Date
    /// due, sent, nothing_new, no_address.
    var state: String
    var articles: [Article]
}

/// What goes in a digest: the most relevant new articles, one per story, none of a muted
/// topic, kept varied (MMR over topics), then grouped by topic.
enum DigestAssembly {
    /// Before a scheduled send, how long "new" reaches back when the user had no digest yet.
    static let firstLookback: TimeInterval = 86400
    /// A send more than this late is skipped (the day's window passed), not sent late.
    static let window: TimeInterval = 30 * 60
    /// Digests of one tenant assembled by one job: their articles are read once for all of them.
    static let batch = 100

    /// A new article as every digest of a batch weighs it: what is the same for all readers
    /// worked out once.
    struct Candidate: Sendable {
        var item: Item
        var story: String
        /// Categories and topics, distinct: what affinity and mutes look at.
        var labels: Set<String>
        /// What diversity compares: the topics, else the categories.
        var kind: Set<String>
        var source: String?
        var freshness: Double
    }

    /// The active candidates, prepared once for a batch of readers.
    static func prepare(_ candidates: [(item: Item, cluster: String?)], now: Date) -> [Candidate] {
        candidates.filter { $0.item.status == .active }.map { item, cluster in
            var source: String?
            if case .string(let id)? = item.attributes["source"] { source = id }
            return Candidate(
                item: item, story: cluster ?? item.key, labels: Set(item.categories + item.topics),
                kind: Set(item.topics.isEmpty ? item.categories : item.topics), source: source,
                freshness: Scoring.freshness(published: item.publishedAt, now: now, halfLifeHours: 24))
        }
    }

    /// Relevance to the user: category and topic affinity from their profile (`total`: its
    /// weights summed), articles of the sources they follow (their own fully, the tenant's
    /// half), and freshness.
    static func relevance(_ candidate: Candidate, profile: UserProfile, total: Double, followed: [String: Double]) -> Double {
        let affinity = Scoring.affinity(distinct: candidate.labels, profile: profile.categories, total: total)
        let source = candidate.source.flatMap { followed[$0] } ?? 0
        return 0.5 * affinity + 0.3 * source + 0.2 * candidate.freshness
    }

    /// `followed`: source id → 1 for the user's own sources, 0.5 for the tenant's.
    static func pick(
        _ candidates: [(item: Item, cluster: String?)], profile: UserProfile, followed: [String: Double] = [:], muted: Set<String>, maxItems: Int,
        now: Date
    ) -> [Digest.Article] {
        pick(prepare(candidates, now: now), profile: profile, followed: followed, muted: muted, maxItems: maxItems)
    }

    static func pick(
        _ candidates: [Candidate], profile: UserProfile, followed: [String: Double], muted: Set<String>, maxItems: Int
    ) -> [Digest.Article] {
        let total = profile.categories.values.reduce(0, +)
        // The most relevant article of each story.
        var best: [String: (candidate: Candidate, score: Double)] = [:]
        for candidate in candidates where candidate.labels.isDisjoint(with: muted) && !profile.excluded.contains(candidate.item.key) {
            let score = relevance(candidate, profile: profile, total: total, followed: followed)
            if score > best[candidate.story]?.score ?? -1 { best[candidate.story] = (candidate, score) }
        }
        let scored = best.values.sorted { ($0.score, $0.candidate.item.key) > ($1.score, $1.candidate.item.key) }.map {
            ($0.candidate.item, score: $0.score, categories: $0.candidate.kind)
        }
        let chosen = Scoring.diversify(scored, count: maxItems, lambda: 0.7).map(\.0)
        let articles = chosen.map { item -> Digest.Article in
            var url: String?
            var summary: String?
            if case .string(let value)? = item.attributes["url"] { url = value }
            if case .string(let value)? = item.attributes["summary"] { summary = value }
            return Digest.Article(
                key: item.key, title: item.title, url: url, summary: summary, topic: item.topics.first ?? item.categories.first ?? "other",
                provider: item.provider)
        }
        // Grouped by topic, the topics in the order of their best article.
        var order: [String] = []
        for article in articles where !order.contains(article.topic) { order.append(article.topic) }
        return order.flatMap { topic in articles.filter { $0.topic == topic } }
    }

    /// The articles as plain text for the email: topic headings, then title, source and link.
    static func text(_ articles: [Digest.Article]) -> String {
        var lines: [String] = []
        var topic: String?
        for article in articles {
            if article.topic != topic {
                if topic != nil { lines.append("") }
                lines.append(article.topic.uppercased())
                topic = article.topic
            }
            lines.append("- \(article.title)" + (article.provider.map { " (\($0))" } ?? ""))
            if let url = article.url { lines.append("  \(url)") }
        }
        return lines.joined(separator: "\n")
    }
}
