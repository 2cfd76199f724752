import Crypto
import Foundation
import ServiceKit

/// Feed entries through the intake's stages into catalogue items: keyed by their address (the
/// same article from two sources is one item), the source as provider, the summary, quality
/// and address kept in the attributes. Each stage is a function here; the jobs in
/// `IntakeStages` run them over batches, and `drafts` runs them all at once.
enum FeedItems {
    static let summaryLength = 1000

    /// "feed-" and 32 hex digits of the SHA-256 of the entry's canonical URL (its id when it has none).
    static func key(_ entry: FeedEntry) -> String {
        "feed-" + hex(SHA256.hash(data: Data((entry.url.map(CanonicalURL.of)?.absoluteString ?? entry.id).utf8)).prefix(16))
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The name articles of this source are shown under.
    static func provider(of source: Source) -> String {
        String((source.title.isEmpty ? URL(string: source.url)?.host ?? source.url : source.title).prefix(200))
    }

    /// normalise: plain text, canonical address, language, content hash, bounded labels.
    static func normalise(_ entry: FeedEntry, sourceId: UUID, provider: String, now: Date) -> IntakeArticle {
        let text = FeedText.line(entry.content) ?? FeedText.line(entry.summary) ?? ""
        var seen: Set<String> = []
        let categories = entry.categories.map { String($0.lowercased().prefix(80)) }.filter { !$0.isEmpty && seen.insert($0).inserted }
        return IntakeArticle(
            key: key(entry), sourceId: sourceId, provider: provider, title: String(entry.title.prefix(500)),
            url: entry.url.map { String(CanonicalURL.of($0).absoluteString.prefix(2000)) }, author: entry.author.map { String($0.prefix(200)) },
            // Undated, or dated ahead of our clock: as of the fetch.
            publishedAt: min(entry.publishedAt ?? now, now), categories: Array(categories.prefix(ItemRules.maxLabels)), text: text,
            contentHash: hex(SHA256.hash(data: Data((entry.title + "\n" + text).utf8))), language: Language.detect(entry.title + " " + text))
    }

    /// quality: the score, or the reasons it was rejected.
    static func score(_ article: inout IntakeArticle) -> Quality {
        let quality = Quality.of(title: article.title, text: article.text)
        article.quality = quality.score
        return quality
    }

    /// topics: the taxonomy's labels that fit.
    static func label(_ article: inout IntakeArticle, with classifier: TopicClassifier) {
        article.topics = classifier.classify(article.title + " " + article.text).map(\.key)
    }

    /// summary: TextRank, three sentences.
    static func summarise(_ article: inout IntakeArticle) {
        article.summary = String(Summary.of(article.text, sentences: 3).prefix(summaryLength))
    }

    /// The text near-duplicates are found by: the article's, else its title.
    static func comparable(_ article: IntakeArticle) -> String { article.text.isEmpty ? article.title : article.text }

    /// The catalogue item an article that passed becomes.
    static func item(_ article: IntakeArticle) -> ItemDraft {
        var attributes: [String: JSONValue] = [
            "source": .string(article.sourceId.uuidString.lowercased()), "quality": .number(article.quality ?? 0),
            "language": .string(article.language),
        ]
        if let url = article.url { attributes["url"] = .string(url) }
        if let summary = article.summary, !summary.isEmpty { attributes["summary"] = .string(summary) }
        return ItemDraft(
            key: article.key, type: "article", title: article.title, categories: article.categories, topics: article.topics ?? [],
            provider: article.provider, author: article.author, publishedAt: article.publishedAt, attributes: attributes, status: .active)
    }

    /// Articles that did not pass, and why.
    struct Rejection: Sendable, Equatable {
        var key: String
        var reasons: [String]
    }

    /// Every stage but near-duplicates over a whole feed at once (the pipeline bench, tests):
    /// the items, each beside the text it is compared by, and the rejected.
    static func drafts(
        _ feed: ParsedFeed, source: Source, topics: TopicClassifier = TopicClassifier([]), now: Date
    ) -> (drafts: [(item: ItemDraft, text: String)], rejected: [Rejection]) {
        var rejected: [Rejection] = []
        let drafts = feed.entries.compactMap { entry -> (item: ItemDraft, text: String)? in
            var article = normalise(entry, sourceId: source.id, provider: provider(of: source), now: now)
            let quality = score(&article)
            if quality.rejected {
                rejected.append(Rejection(key: article.key, reasons: quality.reasons))
                return nil
            }
            label(&article, with: topics)
            summarise(&article)
            return (item(article), comparable(article))
        }
        return (drafts, rejected)
    }
}
