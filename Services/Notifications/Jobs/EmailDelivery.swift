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
    }

    func run(_ job: EmailJob, context: JobContext) async throws {
        let tenant = context.tenantID
        let loaded = try await database.withTenant(tenant) { connection in try await load(job.deliveryId, on: connection) }
        guard let pending = loaded else { return }  // sent, failed or suppressed already
        let parts = pending.templates.parts(for: pending.templateKey, locale: pending.locale) ?? NotificationStore.fallback
        let data = TemplateCatalog.context(pending.data, appURL: appURL, recipientName: pending.recipientName, recipientEmail: pending.address)
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

    /// The delivery, its notification, the recipient's name and the tenant's overrides of its
    /// template that `TemplateChoices` chooses from, in one statement.
    private func load(_ delivery: UUID, on connection: PostgresConnection) async throws -> Pending? {
        let rows = try await connection.query(
            """
            SELECT n.id, n.idempotency_key, d.address, n.user_id, n.category, n.template_key, n.locale, n.data::text, COALESCE(m.name, ''),
                   l.subject, l.text_body, l.html_body, f.subject, f.text_body, f.html_body
            FROM notifications.deliveries d
            JOIN notifications.notifications n ON n.id = d.notification_id
            LEFT JOIN notifications.members m ON m.user_id = n.user_id
            LEFT JOIN notifications.templates l ON l.template_key = n.template_key AND l.locale = n.locale
            LEFT JOIN notifications.templates f ON f.template_key = n.template_key AND f.locale = \(TemplateCatalog.defaultLocale)
            WHERE d.id = \(delivery) AND d.state IN ('queued', 'deferred')
            """, logger: database.logger)
        for try await (id, key, address, user, category, template, locale, data, name, subject, text, html, fallbackSubject, fallbackText, fallbackHTML)
            in rows.decode((UUID, String, String, UUID?, String, String, String, String, String, String?, String?, String?, String?, String?, String?).self)
        {
            let values = (try? JSONDecoder().decode([String: String].self, from: Data(data.utf8))) ?? [:]
            var templates = TemplateChoices()
            for (slotLocale, subject, text, html) in [(TemplateCatalog.defaultLocale, fallbackSubject, fallbackText, fallbackHTML), (locale, subject, text, html)] {
                if let subject, let text { templates.overrides[.init(key: template, locale: slotLocale)] = TemplateParts(subject: subject, text: text, html: html) }
            }
            return Pending(
                notification: id, idempotencyKey: key, address: address, user: user, category: category, templateKey: template, locale: locale,
                data: values, recipientName: name, templates: templates)
        }
        return nil
    }

    private func finish(_ delivery: UUID, _ pending: Pending, tenant: UUID, state: String, eventState: String, error: String?, messageID: String?) async throws {
        let outcome = NotificationDelivery(
            tenantId: tenant, notificationId: pending.notification, deliveryId: delivery, idempotencyKey: pending.idempotencyKey, channel: "email",
            state: eventState, category: pending.category, templateKey: pending.templateKey, recipientUserId: pending.user, error: error, occurredAt: Date())
        try await DeliveryStore(database: database).finish([outcome], state: state, messageID: messageID, tenant: tenant)
    }
}
