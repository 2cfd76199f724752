import Foundation
import Metrics

/// The intake's stages as jobs: each takes a batch of the articles waiting at its stage, does
/// its part and passes them on (`IntakeStore.advance`). A text already scored, re-fetched or
/// under another address, stops at normalise and costs one lookup.
struct IntakeStages: Sendable {
    let store: IntakeStore
    let topics: TopicStore
    let batchSize: Int

    func run(_ stage: IntakeStage, tenant: UUID, now: Date = Date()) async throws {
        switch stage {
        case .normalise: try await normalise(tenant: tenant, now: now)
        case .quality: try await quality(tenant: tenant)
        case .topics: try await label(tenant: tenant)
        case .summary: try await summarise(tenant: tenant)
        case .nearDuplicates: try await cluster(tenant: tenant)
        }
    }

    /// Every stage until none has articles waiting (tests, the bench): the jobs do the same, one batch each.
    func drain(tenant: UUID, now: Date = Date()) async throws {
        while try await !store.waiting(tenant: tenant).isEmpty {
            for stage in IntakeStage.allCases { try await run(stage, tenant: tenant, now: now) }
        }
    }

    func normalise(tenant: UUID, now: Date) async throws {
        try await store.advance(.normalise, tenant: tenant, limit: batchSize) { batch in
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

    func quality(tenant: UUID) async throws {
        try await store.advance(.quality, tenant: tenant, limit: batchSize) { batch in
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

    func label(tenant: UUID) async throws {
        // The taxonomy as it is now; a topic edited later labels the articles after it.
        let classifier = TopicClassifier(try await topics.all(tenant: tenant))
        try await store.advance(.topics, tenant: tenant, limit: batchSize) { batch in
            var outcome = IntakeStore.Outcome()
            for var article in batch.rows.compactMap(\.article) {
                FeedItems.label(&article, with: classifier)
                outcome.advanced.append(article)
            }
            return outcome
        }
    }

    /// The summary, and with it the article becomes an item.
    func summarise(tenant: UUID) async throws {
        try await store.advance(.summary, tenant: tenant, limit: batchSize) { batch in
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

    func cluster(tenant: UUID) async throws {
        try await store.advance(.nearDuplicates, tenant: tenant, limit: batchSize) { batch in
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
