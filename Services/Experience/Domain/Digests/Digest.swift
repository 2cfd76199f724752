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

    static func pick(
        _ candidates: [(item: Item, cluster: String?)], profile: UserProfile, muted: Set<String>, maxItems: Int, now: Date
    ) -> [Digest.Article] {
        var stories: Set<String> = []
        let eligible = candidates.filter { candidate in
            candidate.item.status == .active && Set(candidate.item.categories).isDisjoint(with: muted)
                && !profile.excluded.contains(candidate.item.key) && stories.insert(candidate.cluster ?? candidate.item.key).inserted
        }
        let scored = eligible.map { candidate -> (Item, score: Double, categories: Set<String>) in
            let affinity = Scoring.affinity(categories: candidate.item.categories, profile: profile.categories)
            let freshness = Scoring.freshness(published: candidate.item.publishedAt, now: now, halfLifeHours: 24)
            return (candidate.item, 0.7 * affinity + 0.3 * freshness, Set(candidate.item.categories))
        }
        let chosen = Scoring.diversify(scored, count: maxItems, lambda: 0.7).map(\.0)
        let articles = chosen.map { item -> Digest.Article in
            var url: String?
            var summary: String?
            if case .string(let value)? = item.attributes["url"] { url = value }
            if case .string(let value)? = item.attributes["summary"] { summary = value }
            return Digest.Article(
                key: item.key, title: item.title, url: url, summary: summary, topic: item.categories.first ?? "other", provider: item.provider)
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
