import Crypto
import Foundation
import ServiceKit

/// Feed entries as catalogue items: keyed by their address (the same article from two
/// sources is one item), the source as provider, a plain summary kept in the attributes.
enum FeedItems {
    static let summaryLength = 1000

    /// "feed-" and 32 hex digits of the SHA-256 of the entry's canonical URL (its id when it has none).
    static func key(_ entry: FeedEntry) -> String {
        let digest = SHA256.hash(data: Data((entry.url.map(CanonicalURL.of)?.absoluteString ?? entry.id).utf8))
        return "feed-" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Articles that did not pass, and why.
    struct Rejection: Sendable, Equatable {
        var key: String
        var reasons: [String]
    }

    /// The entries as items, each scored for quality (those below the threshold rejected)
    /// and summarised (TextRank, three sentences) from its full text when the feed gives one;
    /// beside each, that text (near-duplicates are found by it).
    static func drafts(
        _ feed: ParsedFeed, source: Source, topics: TopicClassifier = TopicClassifier([]), now: Date
    ) -> (drafts: [(item: ItemDraft, text: String)], rejected: [Rejection]) {
        let provider = String((source.title.isEmpty ? URL(string: source.url)?.host ?? source.url : source.title).prefix(200))
        var rejected: [Rejection] = []
        let drafts = feed.entries.compactMap { entry -> (item: ItemDraft, text: String)? in
            let text = FeedText.line(entry.content) ?? FeedText.line(entry.summary) ?? ""
            let quality = Quality.of(title: entry.title, text: text)
            if quality.rejected {
                rejected.append(Rejection(key: key(entry), reasons: quality.reasons))
                return nil
            }
            var attributes: [String: JSONValue] = ["source": .string(source.id.uuidString.lowercased()), "quality": .number(quality.score)]
            if let url = entry.url { attributes["url"] = .string(String(CanonicalURL.of(url).absoluteString.prefix(2000))) }
            let summary = Summary.of(text, sentences: 3)
            if !summary.isEmpty { attributes["summary"] = .string(String(summary.prefix(summaryLength))) }
            attributes["language"] = .string(Language.detect(entry.title + " " + text))
            var seen: Set<String> = []
            let categories = entry.categories.map { String($0.lowercased().prefix(80)) }.filter { !$0.isEmpty && seen.insert($0).inserted }
            let draft = ItemDraft(
                key: key(entry), type: "article", title: String(entry.title.prefix(500)), categories: Array(categories.prefix(ItemRules.maxLabels)),
                topics: topics.classify(entry.title + " " + text).map(\.key), provider: provider, author: entry.author.map { String($0.prefix(200)) },
                // Undated, or dated ahead of our clock: as of the fetch.
                publishedAt: min(entry.publishedAt ?? now, now), attributes: attributes, status: .active)
            return (draft, text.isEmpty ? entry.title : text)
        }
        return (drafts, rejected)
    }
}
