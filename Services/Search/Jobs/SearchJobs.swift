import Foundation
import Jobs

struct PruneArguments: Codable, Sendable {}

struct ReindexArguments: Codable, Sendable {
    var reindexId: UUID
}

/// The search service's background work.
enum SearchJobs {
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

    static func crons() throws -> [Cron] {
        [try Cron("search.prune-analytics", "43 3 * * *", kind: pruneAnalytics, arguments: PruneArguments())]
    }
}
