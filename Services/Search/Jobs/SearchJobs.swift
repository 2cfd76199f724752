import Jobs

struct PruneArguments: Codable, Sendable {}

/// The search service's background work.
enum SearchJobs {
    static let pruneAnalytics = JobKind<PruneArguments>("search.prune-analytics", maxAttempts: 5, timeout: .seconds(600))

    static func crons() throws -> [Cron] {
        [try Cron("search.prune-analytics", "43 3 * * *", kind: pruneAnalytics, arguments: PruneArguments())]
    }
}
