import Foundation
import Jobs
import Persistence

struct UpkeepArguments: Codable, Sendable {}

/// The experience service's background work: kinds, handlers, crons and queues.
struct ExperienceJobs: ServiceJobs {
    let database: Database

    static let partitions = JobKind<UpkeepArguments>("experience.interaction-partitions", maxAttempts: 5, timeout: .seconds(300))
    static let reconcile = JobKind<UpkeepArguments>("experience.reconcile-counters", maxAttempts: 3, timeout: .seconds(3600))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let partitions = InteractionPartitions(database: database)
        registry.register(Self.partitions) { _, context in
            let dropped = try await partitions.maintain()
            context.logger.info("interaction partitions kept", metadata: ["dropped": "\(dropped)"])
        }
        let reconciliation = ReconciliationStore(database: database)
        registry.register(Self.reconcile) { _, context in
            for tenant in try await reconciliation.activeTenants(since: Date().addingTimeInterval(-Double(ReconciliationRules.jobHours) * 3600)) {
                let report = try await reconciliation.reconcile(tenant: tenant, hours: ReconciliationRules.jobHours)
                if report.repaired > 0 {
                    context.logger.warning(
                        "counters drifted from the interaction log; repaired",
                        metadata: ["tenant_id": "\(tenant)", "repaired": "\(report.repaired)"])
                }
            }
        }
        return registry
    }

    func crons() throws -> [Cron] {
        // Hourly: a day's partition exists days before its first event, and a service that
        // was down over midnight catches up within the hour.
        [
            try Cron("experience.interaction-partitions", "7 * * * *", kind: Self.partitions, arguments: UpkeepArguments()),
            // Daily, over the last 8 days: as far back as a late event may land.
            try Cron("experience.reconcile-counters", "23 2 * * *", kind: Self.reconcile, arguments: UpkeepArguments()),
        ]
    }

    var configuration: JobWorker.Configuration {
        JobWorker.Configuration(queues: ["default": 2])
    }
}
