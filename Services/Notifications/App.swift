import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the notifications service: intake of notification requests and of the members
/// and plans auth announces; email (with digests), push and signed webhook deliveries as
/// jobs paced by the tenant's plan; the inbox with its stream, preferences and templates.
func notificationsHost(_ configuration: NotificationsConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(NotificationsProgram.self, configuration: configuration.service)
    let database = host.database
    // Plans from auth.tenant.v1 pace each tenant's sends per channel.
    let tenants = TenantDirectory()
    host.run(TenantFeed(brokers: configuration.service.kafkaBrokers, directory: tenants, service: "notifications", logger: host.logger))
    let jobs = NotificationJobs(configuration: configuration, database: database, tenants: tenants)
    let members = MemberStore(database: database)
    let preferences = PreferenceStore(database: database)
    let templates = TemplateStore(database: database)
    let push = PushStore(database: database)
    let notifications = NotificationStore(
        database: database, members: members, preferences: preferences, templates: templates, sendEmail: jobs.sendEmail,
        sendDigest: jobs.sendDigest, sendPush: jobs.sendPush, push: push, appURL: configuration.appURL)
    let webhooks = WebhookStore(database: database, deliver: WebhookSender.kind())
    try host.consume(RequestIntake(store: notifications, logger: host.logger))
    try host.consume(MembershipFeed(members: members))
    try host.consume(WebhookFeed(store: webhooks))
    try host.consume(PhotoSessionFeed(store: notifications))
    try host.consume(SuppressionFeed(store: AddressSuppressionStore(database: database)))

    host.routes(
        InboxRoutes(
            store: notifications, preferences: preferences, streamPoll: configuration.streamPoll, tickets: StreamTicketStore(database: database)))
    host.routes(TemplateRoutes(store: templates))
    host.routes(BrandingRoutes(store: BrandingStore(database: database)))
    host.routes(WebhookRoutes(store: webhooks, policy: configuration.webhooks))
    host.routes(PushRoutes(store: push, policy: configuration.webhooks))
    host.routes(JobAdminRoutes(store: JobAdminStore(database: database), path: "v1/admin/notifications/jobs"))
    try host.jobs(jobs.running(notifications: notifications, members: members, templates: templates, push: push, webhooks: webhooks))
    return host
}

enum NotificationsProgram: ServiceProgram {
    static let name = "notifications"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceHost.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try NotificationsConfiguration.fromEnvironment().service }
    static func serve(migrate: Bool) async throws {
        var configuration = try NotificationsConfiguration.fromEnvironment()
        configuration.service.migrateOnStart = migrate
        try await notificationsHost(configuration).run()
    }
}

@main
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications", abstract: "Email, webhooks, in-app inbox, push.",
        subcommands: [
            ServeCommand<NotificationsProgram>.self, MigrateCommand<NotificationsProgram>.self, DeadLetterCommand<NotificationsProgram>.self,
        ],
        defaultSubcommand: ServeCommand<NotificationsProgram>.self)
}
