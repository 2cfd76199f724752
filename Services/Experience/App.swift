import ArgumentParser
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the experience service: a tenant's catalogue of items, the log of what its users
/// did with them, and the counters kept from it (checked against it daily).
func experienceHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(ExperienceProgram.self, configuration: configuration)
    let database = host.database
    let cache = HomeCache()
    host.run(CacheInvalidation(brokers: configuration.kafkaBrokers, cache: cache, logger: host.logger))
    let impressions = ImpressionLog(store: ImpressionStore(database: database), logger: host.logger)
    host.run(impressions)
    let rules = FeedRulesStore(database: database)
    host.routes(
        ItemRoutes(
            store: ItemStore(database: database), counters: CounterStore(database: database), feeds: FeedStore(database: database), rules: rules,
            clusters: StoryClusterStore(database: database),
            cache: cache))
    host.routes(ReconciliationRoutes(store: ReconciliationStore(database: database)))
    let experiments = ExperimentStore(database: database)
    let models = ModelStore(database: database)
    host.routes(
        HomeRoutes(
            store: FeedStore(database: database), experiments: experiments, models: models, rules: rules, cache: cache, impressions: impressions))
    host.routes(FeedRulesRoutes(store: rules, cache: cache))
    host.routes(ModelRoutes(store: models))
    host.routes(ExperimentRoutes(store: experiments, cache: cache))
    host.routes(EventRoutes(store: InteractionStore(database: database), cache: cache))
    host.routes(DigestRoutes(store: DigestStore(database: database)))
    host.routes(TopicRoutes(store: TopicStore(database: database)))
    let fetcher = FeedFetcher(try FeedsConfiguration.fromEnvironment())
    host.routes(SourceRoutes(store: SourceStore(database: database), intake: IntakeStore(database: database), fetcher: fetcher))
    try host.jobs(ExperienceJobs(database: database, fetcher: fetcher))
    host.routes(JobAdminRoutes(store: JobAdminStore(database: database), path: "v1/admin/experience/jobs"))
    return host
}

enum ExperienceProgram: ServiceProgram {
    static let name = "experience"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8083) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await experienceHost(configuration).run()
    }
}

@main
struct ExperienceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experience", abstract: "Interaction events, recommendations, personalisation.",
        subcommands: [
            ServeCommand<ExperienceProgram>.self, MigrateCommand<ExperienceProgram>.self, DeadLetterCommand<ExperienceProgram>.self,
            EvaluateCommand.self, PipelineBenchCommand.self, SummarizeCommand.self,
        ],
        defaultSubcommand: ServeCommand<ExperienceProgram>.self)
}
