import Foundation
import Jobs
import Persistence

struct UpkeepArguments: Codable, Sendable {}

/// The experience service's background work: kinds, handlers, crons and queues.
struct ExperienceJobs: ServiceJobs {
    let database: Database

    static let partitions = JobKind<UpkeepArguments>("experience.interaction-partitions", maxAttempts: 5, timeout: .seconds(300))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let partitions = InteractionPartitions(database: database)
        registry.register(Self.partitions) { _, context in
            let dropped = try await partitions.maintain()
            context.logger.info("interaction partitions kept", metadata: ["dropped": "\(dropped)"])
        }
        return registry
    }

    func crons() throws -> [Cron] {
        // Hourly: a day's partition exists days before its first event, and a service that
        // was down over midnight catches up within the hour.
        [try Cron("experience.interaction-partitions", "7 * * * *", kind: Self.partitions, arguments: UpkeepArguments())]
    }

    var configuration: JobWorker.Configuration {
        JobWorker.Configuration(queues: ["default": 2])
    }
}
