import ArgumentParser
import Contracts
import Foundation
import Hummingbird
import Jobs
import Messaging
import Persistence
import ServiceKit

/// Builds the notifications service: intake of notification requests and of the members
/// and plans auth announces; email (with digests), push and signed webhook deliveries as
/// jobs paced by the tenant's plan; the inbox with its stream, preferences and templates.
func buildNotifications(
    _ configuration: NotificationsConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(
        configuration: configuration.service, schema: NotificationsProgram.name, migrations: try NotificationsProgram.migrations())
    let database = runtime.database
    // Plans from auth.tenant.v1 pace each tenant's sends per channel.
    let tenants = TenantDirectory()
    let tenantFeed = TenantFeed(brokers: configuration.service.kafkaBrokers, directory: tenants, service: "notifications", logger: runtime.logger)
    let emailRate: @Sendable (UUID) -> Double? = { tenants.entry($0).plan.limits.emailsPerSecond }
    let members = MemberStore(database: database)
    let preferences = PreferenceStore(database: database)
    let templates = TemplateStore(database: database)
    let sendEmail = EmailDelivery.kind(
        maxAttempts: configuration.emailRetries.maxAttempts, retryDelay: configuration.emailRetries.delay, tenantRate: emailRate)
    let sendDigest = DigestDelivery.kind(
        maxAttempts: configuration.emailRetries.maxAttempts, retryDelay: configuration.emailRetries.delay, tenantRate: emailRate)
    let push = PushStore(database: database)
    let sendPush = PushDelivery.kind { tenants.entry($0).plan.limits.pushesPerSecond }
    let notifications = NotificationStore(
        database: database, members: members, preferences: preferences, templates: templates, sendEmail: sendEmail, sendDigest: sendDigest,
        sendPush: sendPush, push: push, appURL: configuration.appURL)
    let intake = RequestIntake(store: notifications, logger: runtime.logger)
    let memberFeed = MembershipFeed(members: members)
    let consumers = [
        try runtime.batchConsumer(group: RequestIntake.group, topics: [Topics.notificationsRequest], maxBatch: 200) { try await intake.handle($0) },
        try runtime.consumer(group: MembershipFeed.group, topics: [Topics.authMembership]) { try await memberFeed.handle($0) },
    ]
    let webhooks = WebhookStore(database: database, deliver: WebhookSender.kind())
    let feed = WebhookFeed(store: webhooks)
    let webhookFeed = try runtime.batchConsumer(group: WebhookFeed.group, topics: WebhookFeed.topics, maxBatch: 500) { try await feed.handle($0) }
    // Sends wait on the network most of the time: many run at once.
    let queues = ["email": 128, "push": 8, "webhooks": 64]
    // Webhooks and push services: outside addresses only, connected at the address checked.
    let outbound = PinnedOutbound(policy: configuration.webhooks, connectionsPerHost: queues["webhooks"] ?? 8)
    let sender = WebhookSender(
        store: webhooks, outbound: outbound, notifications: notifications, members: members,
        timeout: configuration.webhookTimeout, schedule: configuration.webhookSchedule)

    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    let verifier = runtime.tokenVerifier()
    InboxRoutes(store: notifications, preferences: preferences, streamPoll: configuration.streamPoll, tickets: StreamTicketStore(database: database))
        .add(to: router, verifier: verifier)
    TemplateRoutes(store: templates).add(to: router, verifier: verifier)
    BrandingRoutes(store: BrandingStore(database: database)).add(to: router, verifier: verifier)
    WebhookRoutes(store: webhooks, policy: configuration.webhooks).add(to: router, verifier: verifier)
    PushRoutes(store: push, policy: configuration.webhooks).add(to: router, verifier: verifier)
    JobAdminRoutes(store: JobAdminStore(database: database), path: "v1/admin/notifications/jobs").add(to: router, verifier: verifier)

    let email = EmailDelivery(database: database, templates: templates, mailer: SMTPMailer(configuration: configuration.smtp), appURL: configuration.appURL)
    var jobs = JobRegistry()
    jobs.register(sendEmail) { job, context in try await email.run(job, context: context) }
    let digest = DigestDelivery(email: email)
    jobs.register(sendDigest) { job, context in try await digest.run(job, context: context) }
    let pushDelivery = PushDelivery(database: database, store: push, outbound: outbound, contact: configuration.pushContact)
    jobs.register(sendPush) { job, context in try await pushDelivery.run(job, context: context) }
    jobs.register(WebhookSender.kind { tenants.entry($0).plan.limits.webhookDeliveriesPerSecond }) { job, context in try await sender.run(job, context: context) }
    let worker = JobWorker(database: database, registry: jobs, crons: [], configuration: .init(queues: queues), logger: runtime.logger)
    return runtime.application(
        router: router, extra: consumers + [tenantFeed, webhookFeed, runtime.afterMigrations(worker)], onServerRunning: onServerRunning)
}

enum NotificationsProgram: ServiceProgram {
    static let name = "notifications"
    static func migrations() throws -> [Migration] { JobTables.migrations(schema: name) + (try ServiceRuntime.migrations(in: .module)) }
    static func configuration() throws -> ServiceConfiguration { try NotificationsConfiguration.fromEnvironment().service }
    static func serve(migrate: Bool) async throws {
        var configuration = try NotificationsConfiguration.fromEnvironment()
        configuration.service.migrateOnStart = migrate
        try await buildNotifications(configuration).runService()
    }
}

@main
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications", abstract: "Email, webhooks, in-app inbox, push.",
        subcommands: [ServeCommand<NotificationsProgram>.self, MigrateCommand<NotificationsProgram>.self],
        defaultSubcommand: ServeCommand<NotificationsProgram>.self)
}
