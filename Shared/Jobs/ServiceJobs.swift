/// A service's background work declared in one type (`<Service>Jobs`): the handlers of
/// its kinds, its crons and its queues. The host runs it with a `JobWorker`.
public protocol ServiceJobs: Sendable {
    var registry: JobRegistry { get }
    func crons() throws -> [Cron]
    var configuration: JobWorker.Configuration { get }
}

extension ServiceJobs {
    public func crons() throws -> [Cron] { [] }
}
