import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// How a failed document write is retried; tests shorten it.
struct IndexRetries: Sendable {
    var maxAttempts = 8
    var delay: @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:)
}

/// Builds the search service: the index consumer, the reindexer and retry jobs, the
/// query and admin routes.
func searchHost(_ configuration: ServiceConfiguration, retries: IndexRetries = IndexRetries()) throws -> ServiceHost {
    let host = try ServiceHost(SearchProgram.self, configuration: configuration)
    let database = host.database
    let retryKind = SearchJobs.indexDocument(maxAttempts: retries.maxAttempts, retryDelay: retries.delay)
    let indexer = Indexer(database: database, retryKind: retryKind)
    // Two members of the group per replica: one writes a batch while the other decodes the
    // next, so both cores work (each holds its own partitions, so they never write one row).
    let consumers = try host.consume(indexer, members: 2)
    let health = HealthStore(database: database)
    host.run(
        PositionReporter(consumers: consumers, group: Indexer.group, store: health, interval: .seconds(2), logger: host.logger), afterMigrations: true
    )
    let reindexes = ReindexStore(database: database)
    let reindexer = Reindexer(store: reindexes, indexer: indexer, brokers: configuration.kafkaBrokers, logger: host.logger)
    let analytics = AnalyticsStore(database: database)
    host.routes(SearchRoutes(documents: DocumentStore(database: database), analytics: analytics))
    host.routes(AnalyticsRoutes(store: analytics))
    host.routes(IndexAdminRoutes(indexer: indexer, health: health, reindexes: reindexes))
    host.routes(JobAdminRoutes(store: JobAdminStore(database: database), path: "v1/admin/search/jobs"))
    try host.jobs(SearchJobs(analytics: analytics, indexer: indexer, reindexer: reindexer, retryKind: retryKind))
    return host
}

enum SearchProgram: ServiceProgram {
    static let name = "search"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8084) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await searchHost(configuration).run()
    }
}

@main
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Per-tenant search index.",
        subcommands: [ServeCommand<SearchProgram>.self, MigrateCommand<SearchProgram>.self, DeadLetterCommand<SearchProgram>.self],
        defaultSubcommand: ServeCommand<SearchProgram>.self)
}
