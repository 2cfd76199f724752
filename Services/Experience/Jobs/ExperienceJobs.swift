import Foundation
import Jobs
import Metrics
import Persistence

struct UpkeepArguments: Codable, Sendable {}

struct TrainingArguments: Codable, Sendable {
    var kind: ModelCard.Kind
}

/// The experience service's background work: kinds, handlers, crons and queues.
struct ExperienceJobs: ServiceJobs {
    let database: Database
    let fetcher: FeedFetcher

    static let partitions = JobKind<UpkeepArguments>("experience.interaction-partitions", maxAttempts: 5, timeout: .seconds(300))
    static let reconcile = JobKind<UpkeepArguments>("experience.reconcile-counters", maxAttempts: 3, timeout: .seconds(3600))
    /// Every active tenant's collaborative model, trained again (nightly).
    static let trainAll = JobKind<UpkeepArguments>("experience.train-models", maxAttempts: 2, timeout: .seconds(4 * 3600))
    /// Every minute: the sources due, queued one fetch job each; and the intake's stages left
    /// with articles and no job, queued again.
    static let scheduleFetches = JobKind<UpkeepArguments>("experience.schedule-fetches", maxAttempts: 1, timeout: .seconds(60))
    static let fetch = JobKind<FetchArguments>("experience.fetch-source", queue: "feeds", maxAttempts: 1, timeout: .seconds(120))
    /// A batch of one tenant's fetched articles through one stage of the intake.
    static func intake(_ stage: IntakeStage) -> JobKind<IntakeArguments> {
        JobKind(
            "experience.intake-\(stage.rawValue.replacingOccurrences(of: "_", with: "-"))", queue: "intake", maxAttempts: 5, timeout: .seconds(300))
    }
    /// Every minute: the users whose digest is due, claimed; each claimed digest assembled and sent.
    static let dispatchDigests = JobKind<UpkeepArguments>("experience.dispatch-digests", maxAttempts: 1, timeout: .seconds(60))
    static let assembleDigests = JobKind<DigestArguments>("experience.assemble-digests", queue: "digests", maxAttempts: 5, timeout: .seconds(300))
    /// One tenant's model of one kind, when its admin asks.
    static let train = JobKind<TrainingArguments>("experience.train-model", maxAttempts: 2, timeout: .seconds(3600))

    var registry: JobRegistry {
        var registry = JobRegistry()
        let partitions = InteractionPartitions(database: database)
        let impressions = ImpressionStore(database: database)
        registry.register(Self.partitions) { _, context in
            let dropped = try await partitions.maintain()
            try await impressions.forgetOld()
            try await IntakeStore(database: database).forgetOldResults()
            try await StoryClusterStore(database: database).forgetOldBands()
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
        let training = ModelTraining(models: ModelStore(database: database), impressions: impressions)
        registry.register(Self.train) { arguments, context in
            try await training.train(arguments.kind, tenant: context.tenantID, logger: context.logger)
        }
        registry.register(Self.trainAll) { _, context in
            for tenant in try await reconciliation.activeTenants(since: Date().addingTimeInterval(-Double(ModelStore.trainingDays) * 86400)) {
                // ALS first: the reranker weighs its predictions among the other features.
                for kind in ModelCard.Kind.allCases { try await training.train(kind, tenant: tenant, logger: context.logger) }
            }
        }
        let sources = SourceStore(database: database)
        let intake = IntakeStore(database: database)
        registry.register(Self.scheduleFetches) { _, context in
            let queued = try await sources.scheduleDue()
            if queued > 0 { context.logger.debug("feed fetches queued", metadata: ["sources": "\(queued)"]) }
            for (tenant, stage) in try await intake.resumeStalled() {
                Counter(label: "experience_intake_resumed_total", dimensions: [("stage", stage.rawValue)]).increment()
                context.logger.warning(
                    "an intake stage had articles and no job; queued again", metadata: ["tenant_id": "\(tenant)", "stage": "\(stage.rawValue)"])
            }
        }
        let fetching = SourceFetching(sources: sources, intake: intake, fetcher: fetcher)
        registry.register(Self.fetch) { arguments, context in
            try await fetching.fetch(arguments.sourceId, tenant: context.tenantID)
        }
        let stages = IntakeStages(store: intake, topics: TopicStore(database: database), batchSize: fetcher.configuration.intakeBatch)
        for stage in IntakeStage.allCases {
            registry.register(Self.intake(stage)) { _, context in try await stages.run(stage, tenant: context.tenantID, logger: context.logger) }
        }
        let digests = DigestSending(store: DigestStore(database: database), feeds: FeedStore(database: database), sources: sources)
        registry.register(Self.dispatchDigests) { _, context in try await digests.dispatch(logger: context.logger) }
        registry.register(Self.assembleDigests) { arguments, context in
            try await digests.assemble(arguments.digestIds, tenant: context.tenantID)
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
            try Cron("experience.train-models", "41 3 * * *", kind: Self.trainAll, arguments: UpkeepArguments()),
            try Cron("experience.schedule-fetches", "* * * * *", kind: Self.scheduleFetches, arguments: UpkeepArguments()),
            try Cron("experience.dispatch-digests", "* * * * *", kind: Self.dispatchDigests, arguments: UpkeepArguments()),
        ]
    }

    var configuration: JobWorker.Configuration {
        // Fetches wait on other servers, not on this one's CPU; the intake's stages and the
        // digests' assembly use it, each beside the other and beside the crons.
        JobWorker.Configuration(queues: ["default": 2, "feeds": 8, "intake": 2, "digests": 2])
    }
}
