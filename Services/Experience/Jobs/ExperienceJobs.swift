import Dispatch
import Foundation
import Jobs
import Logging
import Persistence

struct UpkeepArguments: Codable, Sendable {}

/// The experience service's background work: kinds, handlers, crons and queues.
struct ExperienceJobs: ServiceJobs {
    let database: Database

    static let partitions = JobKind<UpkeepArguments>("experience.interaction-partitions", maxAttempts: 5, timeout: .seconds(300))
    static let reconcile = JobKind<UpkeepArguments>("experience.reconcile-counters", maxAttempts: 3, timeout: .seconds(3600))
    /// Every active tenant's collaborative model, trained again (nightly).
    static let trainAll = JobKind<UpkeepArguments>("experience.train-models", maxAttempts: 2, timeout: .seconds(4 * 3600))
    /// One tenant's, when its admin asks.
    static let train = JobKind<UpkeepArguments>("experience.train-model", maxAttempts: 2, timeout: .seconds(3600))

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
        let models = ModelStore(database: database)
        registry.register(Self.train) { _, context in
            try await Self.train(tenant: context.tenantID, models, context.logger)
        }
        registry.register(Self.trainAll) { _, context in
            for tenant in try await reconciliation.activeTenants(since: Date().addingTimeInterval(-Double(ModelStore.trainingDays) * 86400)) {
                try await Self.train(tenant: tenant, models, context.logger)
            }
        }
        return registry
    }

    static func train(tenant: UUID, _ models: ModelStore, _ logger: Logger) async throws {
        let data = try await models.trainingData(tenant: tenant, now: Date())
        guard !data.entries.isEmpty else { return }
        let parameters = ImplicitALS.Parameters().fitted(users: data.users.count, items: data.items.count)
        let started = Date()
        // Seconds of synchronous CPU work: on a Dispatch thread, so the cooperative pool's few
        // threads keep serving requests meanwhile.
        let model = await withCheckedContinuation { done in
            DispatchQueue.global(qos: .utility).async { done.resume(returning: ImplicitALS.train(data.matrix, parameters)) }
        }
        let seconds = Date().timeIntervalSince(started)
        let saved = try await models.save(model, of: data, parameters: parameters, seconds: seconds, tenant: tenant)
        logger.info(
            "collaborative model trained",
            metadata: [
                "tenant_id": "\(tenant)", "version": "\(saved.version)", "users": "\(saved.users)", "items": "\(saved.items)",
                "seconds": "\(seconds)",
            ])
    }

    func crons() throws -> [Cron] {
        // Hourly: a day's partition exists days before its first event, and a service that
        // was down over midnight catches up within the hour.
        [
            try Cron("experience.interaction-partitions", "7 * * * *", kind: Self.partitions, arguments: UpkeepArguments()),
            // Daily, over the last 8 days: as far back as a late event may land.
            try Cron("experience.reconcile-counters", "23 2 * * *", kind: Self.reconcile, arguments: UpkeepArguments()),
            try Cron("experience.train-models", "41 3 * * *", kind: Self.trainAll, arguments: UpkeepArguments()),
        ]
    }

    var configuration: JobWorker.Configuration {
        JobWorker.Configuration(queues: ["default": 2])
    }
}
