import Contracts
import Foundation
import Jobs
import Persistence
import PostgresNIO
import ServiceKit

/// A notification as the inbox API shows it.
struct InboxItem: Codable, Sendable, Equatable {
    var id: UUID
    var sequence: Int
    var category: String
    var templateKey: String
    var priority: String
    var title: String
    var body: String
    var data: [String: String]
    var createdAt: Date
    var readAt: Date?
    var archivedAt: Date?
}

/// Accepts notification requests (once per idempotency key) and keeps users' inboxes.
struct NotificationStore: Sendable {
    let database: Database
    let members: MemberStore
    let preferences: PreferenceStore
    let templates: TemplateStore
    let sendEmail: JobKind<EmailJob>
    /// The link base templates use (`appUrl`).
    let appURL: String
    static let source = "/notifications"

    /// Stores `request`, puts it in the recipient's inbox, and queues the email (deferred
    /// past quiet hours, skipped when opted out). A request seen before changes nothing.
    func accept(_ request: NotificationRequest, now: Date = Date()) async throws {
        try await database.withTenant(request.tenantId) { connection in
            var address = request.recipient.email
            var name = address ?? ""
            if let user = request.recipient.userId, let member = try await members.member(user, on: connection) {
                address = address ?? member.email
                name = member.name
            }
            let userPreferences = try await request.recipient.userId.asyncMap { try await preferences.preferences(of: $0, on: connection) } ?? .standard
            let wanted = Set(request.channels.isEmpty ? (request.recipient.userId == nil ? ["email"] : ["email", "in_app"]) : request.channels)
            let inApp = request.recipient.userId != nil && wanted.contains(Channel.inApp.rawValue)
                && userPreferences.allows(.inApp, category: request.category)
            let locale = request.data["locale"] ?? TemplateCatalog.defaultLocale
            let parts = try await templates.parts(for: request.templateKey, locale: locale, on: connection) ?? Self.fallback
            var data: [String: Any] = request.data
            data["appUrl"] = appURL
            data["recipientName"] = name
            data["recipientEmail"] = address ?? ""
            let message = TemplateCatalog.render(parts, data: data)

            let id = UUID.v7()
            let json = String(decoding: try JSONEncoder().encode(request.data), as: UTF8.self)
            if inApp, let user = request.recipient.userId {
                // One user's inbox numbers its notifications in commit order: the stream
                // resumes after the last number it sent and must not skip a late commit.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(user.uuidString), 0))", logger: database.logger)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO notifications.notifications
                  (id, tenant_id, idempotency_key, user_id, email, category, template_key, locale, priority, data, title, body, in_app, seq)
                SELECT \(id), \(request.tenantId), \(request.idempotencyKey), \(request.recipient.userId), \(address), \(request.category),
                       \(request.templateKey), \(locale), \(request.priority.rawValue), \(json)::jsonb, \(message.subject), \(message.text), \(inApp),
                       CASE WHEN \(inApp) THEN (SELECT COALESCE(max(seq), 0) + 1 FROM notifications.notifications
                                                 WHERE user_id = \(request.recipient.userId) AND in_app) END
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                RETURNING id
                """, logger: database.logger)
            var accepted = false
            for try await _ in inserted { accepted = true }
            guard accepted, wanted.contains(Channel.email.rawValue) else { return }

            let delivery = UUID.v7()
            var state = "queued"
            var error: String?
            var runAt: Date?
            if address == nil {
                state = "failed"
                error = "no email address is known for the recipient"
            } else if !userPreferences.allows(.email, category: request.category) {
                state = "suppressed"
                error = "the recipient turned off email for \(request.category)"
            } else if request.priority != .urgent, !Preferences.transactional.contains(request.category),
                let until = userPreferences.quiet?.deferral(at: now)
            {
                state = "deferred"
                runAt = until
            }
            try await connection.query(
                """
                INSERT INTO notifications.deliveries (id, tenant_id, notification_id, channel, address, state, last_error, not_before)
                VALUES (\(delivery), \(request.tenantId), \(id), 'email', \(address ?? ""), \(state), \(error), \(runAt))
                """, logger: database.logger)
            if state == "queued" || state == "deferred" {
                try await JobQueue(schema: "notifications").enqueue(
                    sendEmail, EmailJob(deliveryId: delivery), tenant: request.tenantId, options: .init(runAt: runAt), on: connection)
            }
            try await announce(
                NotificationDelivery(
                    tenantId: request.tenantId, notificationId: id, deliveryId: delivery, idempotencyKey: request.idempotencyKey, channel: "email",
                    state: state, category: request.category, templateKey: request.templateKey, recipientUserId: request.recipient.userId,
                    error: error, occurredAt: now), on: connection)
        }
    }

    /// Renders as the key itself when no template exists for it, so nothing is lost.
    static let fallback = TemplateParts(subject: "Notification", text: "{{recipientName}}", html: nil)

    func announce(_ outcome: NotificationDelivery, on connection: PostgresConnection) async throws {
        try await database.outbox.append(
            try .make(outcome, type: NotificationDelivery.type, on: Topics.notificationsDelivery, source: Self.source, tenantID: outcome.tenantId),
            on: connection)
    }

    // MARK: Inbox

    private static let columns = "id, seq, category, template_key, priority, title, body, data::text, created_at, read_at, archived_at"

    private func items(_ rows: PostgresRowSequence) async throws -> [InboxItem] {
        var items: [InboxItem] = []
        for try await row in rows {
            let (id, seq, category, key, priority, title, body, data, created, read, archived) = try row.decode(
                (UUID, Int, String, String, String, String, String, String, Date, Date?, Date?).self)
            let values = (try? JSONDecoder().decode([String: String].self, from: Data(data.utf8))) ?? [:]
            items.append(
                InboxItem(
                    id: id, sequence: seq, category: category, templateKey: key, priority: priority, title: title, body: body, data: values,
                    createdAt: created, readAt: read, archivedAt: archived))
        }
        return items
    }

    /// Newest first, before the `before` sequence number.
    func inbox(user: UUID, tenant: UUID, unreadOnly: Bool, archived: Bool, before: Int?, limit: Int) async throws -> [InboxItem] {
        try await database.withTenant(tenant) { connection in
            try await items(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM notifications.notifications
                    WHERE user_id = \(user) AND in_app AND (archived_at IS NOT NULL) = \(archived)
                      AND (NOT \(unreadOnly) OR read_at IS NULL) AND seq < COALESCE(\(before), 9223372036854775807)
                    ORDER BY seq DESC LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    /// Oldest first, after the `after` sequence number: what a stream has not sent yet.
    func since(_ after: Int, user: UUID, tenant: UUID, limit: Int = 100) async throws -> [InboxItem] {
        try await database.withTenant(tenant) { connection in
            try await items(
                try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM notifications.notifications
                    WHERE user_id = \(user) AND in_app AND seq > \(after) ORDER BY seq LIMIT \(limit)
                    """, logger: database.logger))
        }
    }

    func latestSequence(user: UUID, tenant: UUID) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                "SELECT COALESCE(max(seq), 0) FROM notifications.notifications WHERE user_id = \(user) AND in_app", logger: database.logger)
            for try await (latest,) in rows.decode((Int,).self) { return latest }
            return 0
        }
    }

    func unreadCount(user: UUID, tenant: UUID) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT count(*) FROM notifications.notifications
                WHERE user_id = \(user) AND in_app AND read_at IS NULL AND archived_at IS NULL
                """, logger: database.logger)
            for try await (count,) in rows.decode((Int,).self) { return count }
            return 0
        }
    }

    enum Mark: Sendable { case read, unread, archived }

    /// The item after the change; nil when the user has no such notification.
    func mark(_ id: UUID, _ mark: Mark, user: UUID, tenant: UUID) async throws -> InboxItem? {
        let change =
            switch mark {
            case .read: "read_at = COALESCE(read_at, now())"
            case .unread: "read_at = NULL"
            case .archived: "archived_at = COALESCE(archived_at, now()), read_at = COALESCE(read_at, now())"
            }
        return try await database.withTenant(tenant) { connection in
            try await items(
                try await connection.query(
                    """
                    UPDATE notifications.notifications SET \(unescaped: change)
                    WHERE id = \(id) AND user_id = \(user) AND in_app RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
            ).first
        }
    }

    func markAllRead(user: UUID, tenant: UUID) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                WITH marked AS (
                  UPDATE notifications.notifications SET read_at = now()
                  WHERE user_id = \(user) AND in_app AND read_at IS NULL RETURNING 1
                ) SELECT count(*) FROM marked
                """, logger: database.logger)
            for try await (count,) in rows.decode((Int,).self) { return count }
            return 0
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
