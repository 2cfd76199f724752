import Foundation
import Metrics

/// One fetch of one source: its items into the catalogue, its bookkeeping, the metrics. A
/// failing source never holds up the others: each is its own job.
struct SourceFetching: Sendable {
    let sources: SourceStore
    let intake: FeedIntake
    let fetcher: FeedFetcher

    func fetch(_ id: UUID, tenant: UUID, now: Date = Date()) async throws {
        let source: Source
        let etag: String?
        let lastModified: String?
        do {
            (source, etag, lastModified) = try await sources.get(id, tenant: tenant)
        } catch ExperienceError.notFound {
            return
        }
        do {
            switch try await fetcher.get(source.url, etag: etag, lastModified: lastModified) {
            case .notModified:
                Counter(label: "experience_feed_fetches_total", dimensions: [("outcome", "not_modified")]).increment()
                try await sources.recordSuccess(
                    id, notModified: true, etag: nil, lastModified: nil, movedTo: nil, itemsNew: 0, tenant: tenant, now: now)
            case .document(let document):
                let feed: ParsedFeed
                if source.format == ParsedFeed.Format.page.rawValue {
                    guard let page = FeedFetcher.page(document) else { throw FetchFailure.notAFeed("the page has no title") }
                    feed = page
                } else {
                    feed = try FeedFetcher.feed(document)
                }
                let new = try await intake.take(feed, from: source, tenant: tenant, now: now)
                Counter(label: "experience_feed_fetches_total", dimensions: [("outcome", "fetched")]).increment()
                Counter(label: "experience_feed_items_new_total").increment(by: new)
                try await sources.recordSuccess(
                    id, notModified: false, etag: document.etag, lastModified: document.lastModified, movedTo: document.movedTo?.absoluteString,
                    itemsNew: new, tenant: tenant, now: now)
            }
        } catch let failure as FetchFailure {
            Counter(label: "experience_feed_fetches_total", dimensions: [("outcome", "failed_" + failure.reason)]).increment()
            try await sources.recordFailure(id, reason: failure.description, tenant: tenant, now: now)
        }
    }
}
