import Foundation
import Jobs
import Mail
import Messaging
import Outbound
import Persistence

/// The notifications service's background work: the kinds (paced by each tenant's plan),
/// their handlers and the queues they run on.
struct NotificationJobs: ServiceJobs {
    let settings: NotificationsConfiguration
    let sendEmail: JobKind<EmailJob>
    let sendDigest: JobKind<DigestJob>
    let sendPush: JobKind<PushJob>
    let deliverWebhook: JobKind<WebhookJob>
    var registry = JobRegistry()

    /// Sends wait on the network most of the time: many run at once.
    static let queues = ["email": 128, "push": 8, "webhooks": 64]

    init(configuration: NotificationsConfiguration, database: Database, tenants: TenantDirectory) {
        self.settings = configuration
        let emailRate: @Sendable (UUID) -> Double? = { tenants.entry($0).plan.limits.emailsPerSecond }
        let retries = configuration.emailRetries
        sendEmail = EmailDelivery.kind(maxAttempts: retries.maxAttempts, retryDelay: retries.delay, tenantRate: emailRate)
        sendDigest = DigestDelivery.kind(maxAttempts: retries.maxAttempts, retryDelay: retries.delay, tenantRate: emailRate)
        sendPush = PushDelivery.kind { tenants.entry($0).plan.limits.pushesPerSecond }
        deliverWebhook = WebhookSender.kind { tenants.entry($0).plan.limits.webhookDeliveriesPerSecond }
    }

    /// The same kinds with their handlers.
    func running(
        notifications: NotificationStore, members: MemberStore, templates: TemplateStore, push: PushStore, webhooks: WebhookStore
    ) -> NotificationJobs {
        let database = notifications.database
        let configuration = settings
        // Webhooks and push services: outside addresses only, connected at the address checked.
        let outbound = PinnedOutbound(policy: configuration.webhooks, connectionsPerHost: Self.queues["webhooks"] ?? 8)
        let email = EmailDelivery(
            database: database, templates: templates, mailer: SMTPMailer(configuration: configuration.smtp), appURL: configuration.appURL)
        let digest = DigestDelivery(email: email)
        let pushDelivery = PushDelivery(database: database, store: push, outbound: outbound, contact: configuration.pushContact)
        let sender = WebhookSender(
            store: webhooks, outbound: outbound, notifications: notifications, members: members, timeout: configuration.webhookTimeout,
            schedule: configuration.webhookSchedule)
        var running = self
        running.registry.register(sendEmail) { job, context in try await email.run(job, context: context) }
        running.registry.register(sendDigest) { job, context in try await digest.run(job, context: context) }
        running.registry.register(sendPush) { job, context in try await pushDelivery.run(job, context: context) }
        running.registry.register(deliverWebhook) { job, context in try await sender.run(job, context: context) }
        return running
    }

    var configuration: JobWorker.Configuration { .init(queues: Self.queues) }
}
