import Foundation
import Persistence
import PostgresNIO

/// An email delivery still to send, with what rendering it needs.
struct PendingEmail: Sendable {
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

/// A notification waiting in a user's digest.
struct DigestItem: Sendable {
    var delivery: UUID
    var notification: UUID
    var idempotencyKey: String
    var address: String
    var category: String
    var templateKey: String
    var title: String
    var body: String
}

/// What one run sends: the notification, and the user's subscriptions that an earlier
/// attempt has not reached.
struct PendingPush: Sendable {
    var payload: PushDelivery.Payload
    var user: UUID
    var idempotencyKey: String
    var templateKey: String
    var reachedBefore: Int
    var targets: [PushStore.Target]
}

/// What the delivery jobs read and note about the deliveries they send.
struct PendingDeliveries: Sendable {
    let database: Database

    /// The deliveries still to send, with their notifications, the recipients' names and the
    /// tenant's overrides of their templates that `TemplateChoices` chooses from, in one statement.
    func emails(_ deliveries: [UUID], tenant: UUID) async throws -> [UUID: PendingEmail] {
        try await database.withTenant(tenant) { connection in try await emails(deliveries, on: connection) }
    }

    private func emails(_ deliveries: [UUID], on connection: PostgresConnection) async throws -> [UUID: PendingEmail] {
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
            """, logger: database.logger)
        var found: [UUID: PendingEmail] = [:]
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let template = try columns[6].decode(String.self)
            let locale = try columns[7].decode(String.self)
            let values = (try? JSONDecoder().decode([String: String].self, from: Data(try columns[8].decode(String.self).utf8))) ?? [:]
            var templates = TemplateChoices()
            for (slotLocale, first) in [(TemplateCatalog.defaultLocale, 13), (locale, 10)] {
                if let subject = try columns[first].decode(String?.self), let text = try columns[first + 1].decode(String?.self) {
                    templates.overrides[.init(key: template, locale: slotLocale)] = TemplateParts(
                        subject: subject, text: text, html: try columns[first + 2].decode(String?.self))
                }
            }
            found[try columns[0].decode(UUID.self)] = PendingEmail(
                notification: try columns[1].decode(UUID.self), idempotencyKey: try columns[2].decode(String.self),
                address: try columns[3].decode(String.self), user: try columns[4].decode(UUID?.self), category: try columns[5].decode(String.self),
                templateKey: template, locale: locale, data: values, recipientName: try columns[9].decode(String.self), templates: templates,
                brand: try columns[19].decode(Bool.self)
                    ? Branding(
                        name: try columns[16].decode(String?.self), logoUrl: try columns[17].decode(String?.self),
                        color: try columns[18].decode(String?.self))
                    : nil)
        }
        return found
    }

    /// A transient failure of an email: counted, then the job retries.
    func deferred(_ delivery: UUID, error: String, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE notifications.deliveries SET attempts = attempts + 1, last_error = \(error), updated_at = now()
                WHERE id = \(delivery)
                """, logger: database.logger)
        }
    }

    /// The user's digest notifications due within `window` seconds, oldest first.
    func digestItems(of user: UUID, within window: TimeInterval, tenant: UUID) async throws -> [DigestItem] {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT d.id, n.id, n.idempotency_key, d.address, n.category, n.template_key, n.title, n.body
                FROM notifications.deliveries d JOIN notifications.notifications n ON n.id = d.notification_id
                WHERE n.user_id = \(user) AND d.state = 'digest' AND d.not_before <= now() + make_interval(secs => \(window))
                ORDER BY d.created_at LIMIT 200
                """, logger: database.logger)
            var items: [DigestItem] = []
            for try await (delivery, notification, key, address, category, template, title, body) in rows.decode(
                (UUID, UUID, String, String, String, String, String, String).self)
            {
                items.append(
                    DigestItem(
                        delivery: delivery, notification: notification, idempotencyKey: key, address: address, category: category,
                        templateKey: template,
                        title: title, body: body))
            }
            return items
        }
    }

    /// The push delivery still to send, and the user's subscriptions an earlier attempt missed.
    func push(_ delivery: UUID, targets store: PushStore, tenant: UUID) async throws -> PendingPush? {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT n.id, n.title, n.body, n.category, n.data::text, n.user_id, n.idempotency_key, n.template_key, d.pushed_to
                FROM notifications.deliveries d JOIN notifications.notifications n ON n.id = d.notification_id
                WHERE d.id = \(delivery) AND d.state IN ('queued', 'deferred')
                """, logger: database.logger)
            for try await (id, title, body, category, data, user, key, template, pushedTo) in rows.decode(
                (UUID, String, String, String, String, UUID, String, String, [UUID]).self)
            {
                let values = (try? JSONDecoder().decode([String: String].self, from: Data(data.utf8))) ?? [:]
                let reached = Set(pushedTo)
                return PendingPush(
                    payload: PushDelivery.Payload(id: id, title: title, body: body, category: category, data: values), user: user,
                    idempotencyKey: key,
                    templateKey: template, reachedBefore: reached.count,
                    targets: try await store.targets(user: user, on: connection).filter { !reached.contains($0.id) })
            }
            return nil
        }
    }

    /// The subscriptions a failed attempt reached already: the retry does not send them again.
    func pushed(to reached: [UUID], delivery: UUID, tenant: UUID) async throws {
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                "UPDATE notifications.deliveries SET pushed_to = pushed_to || \(reached) WHERE id = \(delivery)", logger: database.logger)
        }
    }
}
