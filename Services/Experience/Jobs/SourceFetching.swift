import Foundation
import Metrics

/// One fetch of one source: its new articles into the intake, its bookkeeping, the metrics. A
/// failing source never holds up the others: each is its own job.
struct SourceFetching: Sendable {
    let sources: SourceStore
    let intake: IntakeStore
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
                    id, notModified: true, etag: nil, lastModified: nil, movedTo: nil, tenant: tenant, now: now)
            case .document(let document):
                let feed: ParsedFeed
                if source.format == ParsedFeed.Format.page.rawValue {
                    guard let page = FeedFetcher.page(document) else { throw FetchFailure.notAFeed("the page has no title") }
                    feed = page
                } else {
                    feed = try FeedFetcher.feed(document)
                }
                try await intake.queue(feed.entries, from: source, tenant: tenant)
                Counter(label: "experience_feed_fetches_total", dimensions: [("outcome", "fetched")]).increment()
                try await sources.recordSuccess(
                    id, notModified: false, etag: document.etag, lastModified: document.lastModified, movedTo: document.movedTo?.absoluteString,
                    tenant: tenant, now: now)
            }
        } catch let failure as FetchFailure {
            Counter(label: "experience_feed_fetches_total", dimensions: [("outcome", "failed_" + failure.reason)]).increment()
            try await sources.recordFailure(id, reason: failure.description, tenant: tenant, now: now)
        }
    }
}
