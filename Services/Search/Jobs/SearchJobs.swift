import Foundation
import Jobs

struct PruneArguments: Codable, Sendable {}

struct ReindexArguments: Codable, Sendable {
    var reindexId: UUID
}

/// The search service's background work: kinds, handlers, crons and queues.
struct SearchJobs: ServiceJobs {
    let analytics: AnalyticsStore
    let indexer: Indexer
    let reindexer: Reindexer
    let retryKind: JobKind<FailureRetry>

    static let pruneAnalytics = JobKind<PruneArguments>("search.prune-analytics", maxAttempts: 5, timeout: .seconds(600))

    /// Retries of a document whose write failed: 8 attempts over about ten minutes by default.
    static func indexDocument(
        maxAttempts: Int = 8, retryDelay: @escaping @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:)
    ) -> JobKind<FailureRetry> {
        JobKind("search.index-document", maxAttempts: maxAttempts, timeout: .seconds(60), retryDelay: retryDelay)
    }

    /// A full replay of the source topics into a new generation; a crashed run resumes
    /// from its consumer group's committed offsets.
    static let reindex = JobKind<ReindexArguments>("search.reindex", queue: "reindex", maxAttempts: 10, timeout: .seconds(6 * 3600))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let analytics = self.analytics
        let indexer = self.indexer
        let reindexer = self.reindexer
        registry.register(Self.pruneAnalytics) { _, context in
            let deleted = try await analytics.prune()
            context.logger.info("pruned search analytics", metadata: ["queries": "\(deleted)"])
        }
        registry.register(retryKind) { retry, context in try await indexer.retry(retry, context: context) }
        registry.register(Self.reindex) { arguments, context in try await reindexer.run(arguments, context: context) }
        return registry
    }

    func crons() throws -> [Cron] {
        [try Cron("search.prune-analytics", "43 3 * * *", kind: Self.pruneAnalytics, arguments: PruneArguments())]
    }

    /// One reindex at a time: each replays every source topic.
    var configuration: JobWorker.Configuration { .init(queues: ["default": 10, "reindex": 1]) }
}
