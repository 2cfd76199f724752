import Foundation

/// A fetched feed's articles into the catalogue: the new ones added, and each new one put in
/// its story's cluster. Shared by a source's first fetch (its route) and every later one (its job).
struct FeedIntake: Sendable {
    let items: ItemStore
    let clusters: StoryClusterStore

    /// How many articles were new.
    func take(_ feed: ParsedFeed, from source: Source, tenant: UUID, now: Date = Date()) async throws -> Int {
        let drafts = FeedItems.drafts(feed, source: source, now: now)
        let new = try await items.addNew(drafts, tenant: tenant)
        let articles = drafts.filter { new.contains($0.key) }.map { draft -> (key: String, text: String) in
            if case .string(let summary)? = draft.attributes["summary"] { return (draft.key, draft.title + " " + summary) }
            return (draft.key, draft.title)
        }
        try await clusters.assign(articles, tenant: tenant, now: now)
        return new.count
    }
}
