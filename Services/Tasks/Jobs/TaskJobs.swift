import Jobs

/// The tasks service's background work, run by its `JobWorker`.
enum TaskJobs {
    static func registry() -> JobRegistry {
        JobRegistry()
    }
}
