import Foundation
import Metrics

/// A fetched feed's articles into the catalogue: the new ones added, and each new one put in
/// its story's cluster. Shared by a source's first fetch (its route) and every later one (its job).
struct FeedIntake: Sendable {
    let items: ItemStore
    let clusters: StoryClusterStore
    let topics: TopicStore

    /// How many articles were new.
    func take(_ feed: ParsedFeed, from source: Source, tenant: UUID, now: Date = Date()) async throws -> Int {
        // Articles already in the catalogue cost nothing: only the others are scored and summarised.
        let known = try await items.existingKeys(feed.entries.map(FeedItems.key), tenant: tenant)
        var fresh = feed
        fresh.entries = feed.entries.filter { !known.contains(FeedItems.key($0)) }
        let classifier = TopicClassifier(fresh.entries.isEmpty ? [] : try await topics.all(tenant: tenant))
        let (drafts, rejected) = FeedItems.drafts(fresh, source: source, topics: classifier, now: now)
        for rejection in rejected {
            for reason in rejection.reasons {
                Counter(label: "experience_feed_entries_rejected_total", dimensions: [("reason", reason.replacingOccurrences(of: " ", with: "_"))])
                    .increment()
            }
        }
        let new = try await items.addNew(drafts.map(\.item), tenant: tenant)
        // The same story from several sources: by the articles' full text.
        let articles = drafts.filter { new.contains($0.item.key) }.map { (key: $0.item.key, text: $0.text) }
        try await clusters.assign(articles, tenant: tenant, now: now)
        return new.count
    }
}
