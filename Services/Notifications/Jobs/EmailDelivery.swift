import Contracts
import Foundation
import Jobs
import Logging
import Mail
import Persistence
import PostgresNIO

/// The job that sends one email delivery.
struct EmailJob: Codable, Sendable {
    var deliveryId: UUID
}

/// Sends queued email deliveries: renders the notification's template as it is now, sends
/// over SMTP, records the outcome and announces it on notifications.delivery.v1. A 5xx
/// answer is a bounce (not retried); anything else is retried by the job queue until its
/// last attempt.
struct EmailDelivery: Sendable {
    let database: Database
    let templates: TemplateStore
    let mailer: SMTPMailer
    let appURL: String
    /// The queue starts its claimed jobs together: their reads, and the records of the sends
    /// that finish close together, are one transaction per tenant instead of one per email.
    private let loads: BatchedCalls<UUID, UUID, PendingEmail?>
    private let finishes: BatchedCalls<UUID, DeliveryStore.Finished, Void>

    init(database: Database, templates: TemplateStore, mailer: SMTPMailer, appURL: String) {
        self.database = database
        self.templates = templates
        self.mailer = mailer
        self.appURL = appURL
        // Emails can wait a little (nobody watches one leave): a read waits 20 ms for the
        // other jobs of its claim, a record 100 ms for the sends that end after it (the
        // server answers them one by one). One transaction per email held the throughput
        // to about 190 emails/s on the 2-core test machine, batches to about 300-400.
        loads = .lookups(linger: .milliseconds(20)) { tenant, deliveries in
            try await PendingDeliveries(database: database).emails(deliveries, tenant: tenant)
        }
        let store = DeliveryStore(database: database)
        finishes = .writes(linger: .milliseconds(100)) { tenant, finished in try await store.finish(finished, tenant: tenant) }
    }

    static func kind(
        maxAttempts: Int = 10, retryDelay: @escaping @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:),
        tenantRate: (@Sendable (UUID) -> Double?)? = nil
    ) -> JobKind<EmailJob> {
        JobKind(
            "notifications.send-email", queue: "email", maxAttempts: maxAttempts, timeout: .seconds(90), tenantRate: tenantRate,
            retryDelay: retryDelay)
    }

    func run(_ job: EmailJob, context: JobContext) async throws {
        let tenant = context.tenantID
        guard let pending = try await loads(job.deliveryId, key: tenant) else { return }  // sent, failed or suppressed already
        let parts = pending.templates.parts(for: pending.templateKey, locale: pending.locale) ?? NotificationStore.fallback
        let data = TemplateCatalog.context(
            pending.data, appURL: appURL, recipientName: pending.recipientName, recipientEmail: pending.address, brand: pending.brand)
        let rendered = TemplateCatalog.render(parts, data: data)
        let message = self.message(
            to: pending.address, rendered, id: job.deliveryId.uuidString.lowercased(),
            unsubscribe: Preferences.transactional.contains(pending.category)
                ? nil
                : "\(appURL)/settings/notifications?category=\(pending.category.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        do {
            try await mailer.send(message)
            try await finish(job.deliveryId, pending, tenant: tenant, state: "sent", eventState: "sent", error: nil, messageID: message.messageID)
        } catch let failure as SMTPFailure {
            switch failure {
            case .rejected:
                try await finish(
                    job.deliveryId, pending, tenant: tenant, state: "failed", eventState: "bounced", error: failure.description, messageID: nil)
            case .transient:
                if context.attempt >= context.maxAttempts {
                    try await finish(
                        job.deliveryId, pending, tenant: tenant, state: "failed", eventState: "failed", error: failure.description, messageID: nil)
                    return
                }
                try await PendingDeliveries(database: database).deferred(job.deliveryId, error: failure.description, tenant: tenant)
                throw failure
            }
        }
    }

    /// `id` makes the Message-ID, the same for every attempt at one send.
    func message(to address: String, _ rendered: RenderedMessage, id: String, unsubscribe: String?) -> EmailMessage {
        let domain = SMTPMailer.address(mailer.configuration.from).split(separator: "@").last.map(String.init) ?? "localhost"
        return EmailMessage(
            from: mailer.configuration.from, to: address, subject: rendered.subject, text: rendered.text, html: rendered.html,
            messageID: "\(id)@\(domain)", date: Date(), listUnsubscribe: unsubscribe)
    }

    private func finish(
        _ delivery: UUID, _ pending: PendingEmail, tenant: UUID, state: String, eventState: String, error: String?, messageID: String?
    ) async throws {
        let outcome = NotificationDelivery(
            tenantId: tenant, notificationId: pending.notification, deliveryId: delivery, idempotencyKey: pending.idempotencyKey, channel: "email",
            state: eventState, category: pending.category, templateKey: pending.templateKey, recipientUserId: pending.user, error: error,
            occurredAt: Date())
        try await finishes(DeliveryStore.Finished(outcome: outcome, state: state, messageID: messageID), key: tenant)
    }
}
