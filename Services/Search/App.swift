import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceKit

/// How a failed document write is retried; tests shorten it.
struct IndexRetries: Sendable {
    var maxAttempts = 8
    var delay: @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:)
}

/// Builds the search service: the index consumer, the reindexer and retry jobs, the
/// query and admin routes.
func buildSearch(
    _ configuration: ServiceConfiguration, retries: IndexRetries = IndexRetries(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(configuration: configuration, schema: SearchProgram.name, migrations: try SearchProgram.migrations())
    let retryKind = SearchJobs.indexDocument(maxAttempts: retries.maxAttempts, retryDelay: retries.delay)
    let indexer = Indexer(database: runtime.database, retryKind: retryKind)
    // Two members of the group per replica: one writes a batch while the other decodes the
    // next, so both cores work (each holds its own partitions, so they never write one row).
    let consumers = try (0..<2).map { _ in
        try runtime.batchConsumer(group: Indexer.group, topics: indexer.topics, maxBatch: 1000) { events in
            try await indexer.apply(events)
        }
    }
    let health = HealthStore(database: runtime.database)
    let reporter = PositionReporter(
        consumers: consumers.map(\.consumer), group: Indexer.group, store: health, interval: .seconds(2), logger: runtime.logger)
    let reindexes = ReindexStore(database: runtime.database)
    let reindexer = Reindexer(store: reindexes, indexer: indexer, brokers: configuration.kafkaBrokers, logger: runtime.logger)

    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    let verifier = runtime.tokenVerifier()
    let analytics = AnalyticsStore(database: runtime.database)
    SearchRoutes(documents: DocumentStore(database: runtime.database), analytics: analytics).add(to: router, verifier: verifier)
    AnalyticsRoutes(store: analytics).add(to: router, verifier: verifier)
    IndexAdminRoutes(indexer: indexer, health: health, reindexes: reindexes).add(to: router, verifier: verifier)
    JobAdminRoutes(store: JobAdminStore(database: runtime.database), path: "v1/admin/search/jobs").add(to: router, verifier: verifier)

    var jobs = JobRegistry()
    jobs.register(SearchJobs.pruneAnalytics) { _, context in
        let deleted = try await analytics.prune()
        context.logger.info("pruned search analytics", metadata: ["queries": "\(deleted)"])
    }
    jobs.register(retryKind) { retry, context in try await indexer.retry(retry, context: context) }
    jobs.register(SearchJobs.reindex) { arguments, context in try await reindexer.run(arguments, context: context) }
    let worker = JobWorker(
        database: runtime.database, registry: jobs, crons: try SearchJobs.crons(),
        configuration: .init(queues: ["default": 10, "reindex": 1]), logger: runtime.logger)
    return runtime.application(
        router: router, extra: consumers + [runtime.afterMigrations(reporter), runtime.afterMigrations(worker)], onServerRunning: onServerRunning)
}

enum SearchProgram: ServiceProgram {
    static let name = "search"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceRuntime.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8084) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await buildSearch(configuration).runService()
    }
}

@main
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Per-tenant search index.",
        subcommands: [ServeCommand<SearchProgram>.self, MigrateCommand<SearchProgram>.self], defaultSubcommand: ServeCommand<SearchProgram>.self)
}
