import ArgumentParser
import Foundation
import Hummingbird
import Jobs
import Mail
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the campaigns service: a tenant's audience (subscribers, lists, segments), its
/// templates (versions, diffs, previews, partials), and campaigns sent through its own SMTP
/// sender a chunk of recipients per job, with signed unsubscribe links.
func campaignsHost(_ configuration: CampaignsConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(CampaignsProgram.self, configuration: configuration.service)
    let database = host.database
    let tenants = TenantDirectory()
    host.run(TenantFeed(brokers: configuration.service.kafkaBrokers, directory: tenants, service: "campaigns", logger: host.logger))
    let quotas = PlanQuotas(tenants: tenants)
    let subscribers = SubscriberStore(database: database)
    host.routes(SubscriberRoutes(store: subscribers, quotas: quotas))
    host.routes(ListRoutes(store: ListStore(database: database)))
    host.routes(SegmentRoutes(store: SegmentStore(database: database)))
    host.routes(TemplateRoutes(store: TemplateStore(database: database), subscribers: subscribers))
    host.routes(PartialRoutes(store: PartialStore(database: database)))
    let campaigns = CampaignStore(database: database)
    host.routes(CampaignRoutes(store: campaigns, quotas: quotas))
    host.routes(UnsubscribeRoutes(store: UnsubscribeStore(database: database), secret: configuration.linkSecret))
    host.routes(TrackingRoutes(store: TrackingStore(database: database), secret: configuration.linkSecret))
    host.routes(SuppressionRoutes(store: SuppressionStore(database: database)))
    let sealer = KeySealer(key: configuration.keyEncryptionKey)
    host.routes(DKIMRoutes(store: DKIMStore(database: database, sealer: sealer)))
    let delivery = CampaignDelivery(
        sends: SendStore(database: database, sealer: sealer), mailer: SMTPMailer(configuration: configuration.smtp), pacer: CampaignPacer(),
        linkSecret: configuration.linkSecret, publicURL: configuration.publicURL, concurrency: configuration.sendConcurrency,
        chunk: campaigns.chunkSize)
    let imports = ImportStore(database: database)
    host.routes(ImportRoutes(store: imports, subscribers: subscribers))
    let confirmations = ConfirmationMail(
        database: database, mailer: SMTPMailer(configuration: configuration.smtp), linkSecret: configuration.linkSecret,
        publicURL: configuration.publicURL)
    host.routes(ConfirmRoutes(lists: ListStore(database: database), secret: configuration.linkSecret))
    host.routes(PreferenceRoutes(store: PreferenceStore(database: database), secret: configuration.linkSecret))
    host.routes(SenderRoutes(store: SenderStore(database: database), secret: configuration.linkSecret))
    try host.jobs(CampaignJobs(delivery: delivery, campaigns: campaigns, imports: imports, confirmations: confirmations, tenants: tenants))
    return host
}

enum CampaignsProgram: ServiceProgram {
    static let name = "campaigns"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try CampaignsConfiguration.fromEnvironment().service }
    static func serve(migrate: Bool) async throws {
        var configuration = try CampaignsConfiguration.fromEnvironment()
        configuration.service.migrateOnStart = migrate
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
