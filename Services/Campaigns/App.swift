import ArgumentParser
import Foundation
import Hummingbird
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the campaigns service: so far a tenant's audience (subscribers, lists, segments)
/// and its templates (versions, diffs, previews, partials). Campaigns themselves, sending,
/// tracking and bounces are not built yet.
func campaignsHost(_ configuration: ServiceConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(CampaignsProgram.self, configuration: configuration)
    let database = host.database
    let tenants = TenantDirectory()
    host.run(TenantFeed(brokers: configuration.kafkaBrokers, directory: tenants, service: "campaigns", logger: host.logger))
    let subscribers = SubscriberStore(database: database)
    host.routes(SubscriberRoutes(store: subscribers, quotas: PlanQuotas(tenants: tenants)))
    host.routes(ListRoutes(store: ListStore(database: database)))
    host.routes(SegmentRoutes(store: SegmentStore(database: database)))
    host.routes(TemplateRoutes(store: TemplateStore(database: database), subscribers: subscribers))
    host.routes(PartialRoutes(store: PartialStore(database: database)))
    return host
}

enum CampaignsProgram: ServiceProgram {
    static let name = "campaigns"
    static func migrations() throws -> [Migration] { try ServiceHost.migrations(in: .module) }
    static func configuration() throws -> ServiceConfiguration { try .fromEnvironment(name: name, defaultPort: 8086) }
    static func serve(migrate: Bool) async throws {
        var configuration = try configuration()
        configuration.migrateOnStart = migrate
        try await campaignsHost(configuration).run()
    }
}

@main
struct CampaignsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaigns", abstract: "Email campaigns.",
        subcommands: [ServeCommand<CampaignsProgram>.self, MigrateCommand<CampaignsProgram>.self, DeadLetterCommand<CampaignsProgram>.self],
        defaultSubcommand: ServeCommand<CampaignsProgram>.self)
}
