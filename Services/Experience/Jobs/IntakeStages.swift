import Foundation
import Logging
import Metrics
import Persistence

/// The intake's stages as jobs: each takes a batch of the articles waiting at its stage, does
/// its part and passes them on (`IntakeStore.advance`). A text already scored, re-fetched or
/// under another address, stops at normalise and costs one lookup.
struct IntakeStages: Sendable {
    let store: IntakeStore
    let topics: TopicStore
    let batchSize: Int

    func run(_ stage: IntakeStage, tenant: UUID, now: Date = Date(), logger: Logger = Logger(label: "experience")) async throws {
        do {
            try await step(stage, tenant: tenant, limit: batchSize, now: now)
        } catch  where Self.isTheData(error) {
            // One article the database refuses fails its whole batch, and the batch would be
            // taken again first every time: one at a time, the one that fails alone is dropped.
            for _ in 0..<batchSize {
                do {
                    if try await step(stage, tenant: tenant, limit: 1, now: now) == 0 { break }
                } catch  where Self.isTheData(error) {
                    let key = try await store.dropOldest(at: stage, tenant: tenant)
                    Counter(label: "experience_intake_dropped_total", dimensions: [("stage", stage.rawValue)]).increment()
                    logger.error(
                        "an article the database refused was dropped from the intake",
                        metadata: [
                            "tenant_id": "\(tenant)", "stage": "\(stage.rawValue)", "key": "\(key ?? "")", "sqlstate": "\(error.sqlState ?? "")",
                        ])
                }
            }
        }
    }

    /// A refusal of this data (SQLSTATE class 22 data exception, 23 integrity): trying again changes nothing.
    static func isTheData(_ error: any Error) -> Bool {
        guard let state = error.sqlState else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    @discardableResult
    func step(_ stage: IntakeStage, tenant: UUID, limit: Int, now: Date) async throws -> Int {
        switch stage {
        case .normalise: try await normalise(tenant: tenant, limit: limit, now: now)
        case .quality: try await quality(tenant: tenant, limit: limit)
        case .topics: try await label(tenant: tenant, limit: limit)
        case .summary: try await summarise(tenant: tenant, limit: limit)
        case .nearDuplicates: try await cluster(tenant: tenant, limit: limit)
        }
    }

    func normalise(tenant: UUID, limit: Int, now: Date) async throws -> Int {
        try await store.advance(.normalise, tenant: tenant, limit: limit) { batch in
            let articles = batch.rows.map { FeedItems.normalise($0.entry, sourceId: $0.sourceId, provider: $0.provider, now: now) }
            let known = try await batch.results(for: articles.map(\.contentHash))
            var outcome = IntakeStore.Outcome()
            var hashes: Set<String> = []
            for article in articles {
                if let result = known[article.contentHash] {
                    // Rejected before, or the text of an article taken under another address.
                    outcome.dropped.append(article.key)
                    outcome.results.append(result)
                    Counter(label: "experience_intake_known_texts_total").increment()
                } else if !hashes.insert(article.contentHash).inserted {
                    outcome.dropped.append(article.key)
                    Self.rejected(["duplicate content"])
                } else {
                    outcome.advanced.append(article)
                }
            }
            return outcome
        }
    }

    func quality(tenant: UUID, limit: Int) async throws -> Int {
        try await store.advance(.quality, tenant: tenant, limit: limit) { batch in
            var outcome = IntakeStore.Outcome()
            for var article in batch.rows.compactMap(\.article) {
                let quality = FeedItems.score(&article)
                if quality.rejected {
                    outcome.dropped.append(article.key)
                    outcome.results.append(
                        ArticleResult(contentHash: article.contentHash, quality: quality.score, reasons: quality.reasons, summary: "", itemKey: nil))
                    Self.rejected(quality.reasons)
                } else {
                    outcome.advanced.append(article)
                }
            }
            return outcome
        }
    }

    func label(tenant: UUID, limit: Int) async throws -> Int {
        // The taxonomy as it is now; a topic edited later labels the articles after it.
        let classifier = TopicClassifier(try await topics.all(tenant: tenant))
        return try await store.advance(.topics, tenant: tenant, limit: limit) { batch in
            var outcome = IntakeStore.Outcome()
            for var article in batch.rows.compactMap(\.article) {
                FeedItems.label(&article, with: classifier)
                outcome.advanced.append(article)
            }
            return outcome
        }
    }

    /// The summary, and with it the article becomes an item.
    func summarise(tenant: UUID, limit: Int) async throws -> Int {
        try await store.advance(.summary, tenant: tenant, limit: limit) { batch in
            var outcome = IntakeStore.Outcome()
            for var article in batch.rows.compactMap(\.article) {
                FeedItems.summarise(&article)
                outcome.items.append(FeedItems.item(article))
                outcome.results.append(
                    ArticleResult(
                        contentHash: article.contentHash, quality: article.quality ?? 0, reasons: [], summary: article.summary ?? "",
                        itemKey: article.key))
                outcome.advanced.append(article)
            }
            Counter(label: "experience_feed_items_new_total").increment(by: outcome.items.count)
            return outcome
        }
    }

    func cluster(tenant: UUID, limit: Int) async throws -> Int {
        try await store.advance(.nearDuplicates, tenant: tenant, limit: limit) { batch in
            let articles = batch.rows.compactMap(\.article)
            return IntakeStore.Outcome(advanced: articles, clusters: articles.map { ($0.key, FeedItems.comparable($0)) })
        }
    }

    static func rejected(_ reasons: [String]) {
        for reason in reasons {
            Counter(label: "experience_feed_entries_rejected_total", dimensions: [("reason", reason.replacingOccurrences(of: " ", with: "_"))])
                .increment()
        }
    }
}
