import Contracts
import Foundation
import Jobs
import Logging
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
    private let loads: BatchedCalls<UUID, UUID, Pending?>
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
            try await database.withTenant(tenant) { connection in try await Self.load(deliveries, on: connection, logger: database.logger) }
        }
        let store = DeliveryStore(database: database)
        finishes = .writes(linger: .milliseconds(100)) { tenant, finished in try await store.finish(finished, tenant: tenant) }
    }

    static func kind(
        maxAttempts: Int = 10, retryDelay: @escaping @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:), tenantRate: (@Sendable (UUID) -> Double?)? = nil
    ) -> JobKind<EmailJob> {
        JobKind("notifications.send-email", queue: "email", maxAttempts: maxAttempts, timeout: .seconds(90), tenantRate: tenantRate, retryDelay: retryDelay)
    }

    private struct Pending: Sendable {
        var notification: UUID
        var idempotencyKey: String
        var address: String
        var user: UUID?
        var category: String
        var templateKey: String
        var locale: String
        var data: [String: String]
        var recipientName: String
        /// The tenant's overrides of the template in the notification's locale and in the default one.
        var templates: TemplateChoices
        var brand: Branding?
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
                ? nil : "\(appURL)/settings/notifications?category=\(pending.category.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        do {
            try await mailer.send(message)
            try await finish(job.deliveryId, pending, tenant: tenant, state: "sent", eventState: "sent", error: nil, messageID: message.messageID)
        } catch let failure as SMTPFailure {
            switch failure {
            case .rejected:
                try await finish(job.deliveryId, pending, tenant: tenant, state: "failed", eventState: "bounced", error: failure.description, messageID: nil)
            case .transient:
                if context.attempt >= context.maxAttempts {
                    try await finish(job.deliveryId, pending, tenant: tenant, state: "failed", eventState: "failed", error: failure.description, messageID: nil)
                    return
                }
                _ = try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        """
                        UPDATE notifications.deliveries SET attempts = attempts + 1, last_error = \(failure.description), updated_at = now()
                        WHERE id = \(job.deliveryId)
                        """, logger: database.logger)
                }
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

    /// The deliveries still to send, with their notifications, the recipients' names and the
    /// tenant's overrides of their templates that `TemplateChoices` chooses from, in one statement.
    private static func load(_ deliveries: [UUID], on connection: PostgresConnection, logger: Logger) async throws -> [UUID: Pending] {
        let rows = try await connection.query(
            """
            SELECT d.id, n.id, n.idempotency_key, d.address, n.user_id, n.category, n.template_key, n.locale, n.data::text, COALESCE(m.name, ''),
                   l.subject, l.text_body, l.html_body, f.subject, f.text_body, f.html_body, b.name, b.logo_url, b.color, b.tenant_id IS NOT NULL
            FROM notifications.deliveries d
            JOIN notifications.notifications n ON n.id = d.notification_id
            LEFT JOIN notifications.members m ON m.user_id = n.user_id
            LEFT JOIN notifications.branding b ON b.tenant_id = n.tenant_id
            LEFT JOIN notifications.templates l ON l.template_key = n.template_key AND l.locale = n.locale
            LEFT JOIN notifications.templates f ON f.template_key = n.template_key AND f.locale = \(TemplateCatalog.defaultLocale)
            WHERE d.id = ANY(\(deliveries)) AND d.state IN ('queued', 'deferred')
            """, logger: logger)
        var found: [UUID: Pending] = [:]
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let template = try columns[6].decode(String.self), locale = try columns[7].decode(String.self)
            let values = (try? JSONDecoder().decode([String: String].self, from: Data(try columns[8].decode(String.self).utf8))) ?? [:]
            var templates = TemplateChoices()
            for (slotLocale, first) in [(TemplateCatalog.defaultLocale, 13), (locale, 10)] {
                if let subject = try columns[first].decode(String?.self), let text = try columns[first + 1].decode(String?.self) {
                    templates.overrides[.init(key: template, locale: slotLocale)] = TemplateParts(
                        subject: subject, text: text, html: try columns[first + 2].decode(String?.self))
                }
            }
            found[try columns[0].decode(UUID.self)] = Pending(
                notification: try columns[1].decode(UUID.self), idempotencyKey: try columns[2].decode(String.self),
                address: try columns[3].decode(String.self), user: try columns[4].decode(UUID?.self), category: try columns[5].decode(String.self),
                templateKey: template, locale: locale, data: values, recipientName: try columns[9].decode(String.self), templates: templates,
                brand: try columns[19].decode(Bool.self)
                    ? Branding(name: try columns[16].decode(String?.self), logoUrl: try columns[17].decode(String?.self), color: try columns[18].decode(String?.self))
                    : nil)
        }
        return found
    }

    private func finish(_ delivery: UUID, _ pending: Pending, tenant: UUID, state: String, eventState: String, error: String?, messageID: String?) async throws {
        let outcome = NotificationDelivery(
            tenantId: tenant, notificationId: pending.notification, deliveryId: delivery, idempotencyKey: pending.idempotencyKey, channel: "email",
            state: eventState, category: pending.category, templateKey: pending.templateKey, recipientUserId: pending.user, error: error, occurredAt: Date())
        try await finishes(DeliveryStore.Finished(outcome: outcome, state: state, messageID: messageID), key: tenant)
    }
}
