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
    let sendDigest: JobKind<DigestJob>
    let sendPush: JobKind<PushJob>
    let push: PushStore
    /// The link base templates use (`appUrl`).
    let appURL: String
    static let source = "/notifications"

    /// Stores `request`, puts it in the recipient's inbox, and queues the email and the push
    /// (deferred past quiet hours, low priority email into the digest, skipped when opted
    /// out). A request seen before changes nothing.
    func accept(_ request: NotificationRequest, now: Date = Date()) async throws {
        try await accept([request], tenant: request.tenantId, now: now)
    }

    /// A tenant's requests in one transaction (one commit for a whole batch).
    func accept(_ requests: [NotificationRequest], tenant: UUID, now: Date = Date()) async throws {
        try await database.withTenant(tenant) { connection in
            for request in requests where request.tenantId == tenant { try await accept(request, now: now, on: connection) }
        }
    }

    private func accept(_ request: NotificationRequest, now: Date, on connection: PostgresConnection) async throws {
        var address = request.recipient.email
        var name = address ?? ""
        if let user = request.recipient.userId, let member = try await members.member(user, on: connection) {
            address = address ?? member.email
            name = member.name
        }
        let userPreferences = try await request.recipient.userId.asyncMap { try await preferences.preferences(of: $0, on: connection) } ?? .standard
        let wanted = Set(request.channels.isEmpty ? (request.recipient.userId == nil ? ["email"] : ["email", "in_app", "push"]) : request.channels)
        let inApp = request.recipient.userId != nil && wanted.contains(Channel.inApp.rawValue)
            && userPreferences.allows(.inApp, category: request.category)
        let locale = request.data["locale"] ?? TemplateCatalog.defaultLocale
        let parts = try await templates.parts(for: request.templateKey, locale: locale, on: connection) ?? Self.fallback
        let data = TemplateCatalog.context(request.data, appURL: appURL, recipientName: name, recipientEmail: address ?? "")
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
        var stored = false
        for try await _ in inserted { stored = true }
        guard stored else { return }
        let accepted = Accepted(id: id, request: request, preferences: userPreferences, now: now)
        if wanted.contains(Channel.email.rawValue) {
            try await queueEmail(accepted, address: address, on: connection)
        }
        if wanted.contains(Channel.push.rawValue), let user = request.recipient.userId, userPreferences.allows(.push, category: request.category),
            try await !push.targets(user: user, on: connection).isEmpty
        {
            let (state, runAt) = accepted.timing(digestible: false)
            try await record(accepted, channel: .push, address: "", state: state, error: nil, runAt: runAt, on: connection)
            try await jobs.enqueue(sendPush, PushJob(deliveryId: accepted.delivery(.push)), tenant: request.tenantId, options: .init(runAt: runAt), on: connection)
        }
    }

    /// A request just stored, and what decides when its channels go out.
    struct Accepted: Sendable {
        var id: UUID
        var request: NotificationRequest
        var preferences: Preferences
        var now: Date
        private let deliveries = [Channel.email: UUID.v7(), .push: UUID.v7()]

        init(id: UUID, request: NotificationRequest, preferences: Preferences, now: Date) {
            self.id = id
            self.request = request
            self.preferences = preferences
            self.now = now
        }

        func delivery(_ channel: Channel) -> UUID { deliveries[channel] ?? id }

        /// Now, the digest (low priority, for a user), or the end of quiet hours
        /// (non-urgent); transactional categories always go now.
        func timing(digestible: Bool) -> (String, Date?) {
            if Preferences.transactional.contains(request.category) { return ("queued", nil) }
            if digestible, request.priority == .low, request.recipient.userId != nil { return ("digest", preferences.nextDigest(after: now)) }
            if request.priority != .urgent, let until = preferences.quiet?.deferral(at: now) { return ("deferred", until) }
            return ("queued", nil)
        }
    }

    private var jobs: JobQueue { JobQueue(schema: "notifications") }

    private func queueEmail(_ accepted: Accepted, address: String?, on connection: PostgresConnection) async throws {
        let request = accepted.request
        guard let address else {
            try await record(accepted, channel: .email, address: "", state: "failed", error: "no email address is known for the recipient", runAt: nil, on: connection)
            return
        }
        guard accepted.preferences.allows(.email, category: request.category) else {
            try await record(
                accepted, channel: .email, address: address, state: "suppressed", error: "the recipient turned off email for \(request.category)", runAt: nil,
                on: connection)
            return
        }
        let (state, runAt) = accepted.timing(digestible: true)
        try await record(accepted, channel: .email, address: address, state: state, error: nil, runAt: runAt, on: connection)
        if state == "digest", let user = request.recipient.userId {
            // One digest job per user while one is pending: later items join it.
            try await jobs.enqueue(
                sendDigest, DigestJob(userId: user), tenant: request.tenantId, options: .init(runAt: runAt, uniqueKey: DigestDelivery.uniqueKey(user)),
                on: connection)
        } else {
            try await jobs.enqueue(
                sendEmail, EmailJob(deliveryId: accepted.delivery(.email)), tenant: request.tenantId, options: .init(runAt: runAt), on: connection)
        }
    }

    /// The delivery row and its first outcome on notifications.delivery.v1.
    private func record(
        _ accepted: Accepted, channel: Channel, address: String, state: String, error: String?, runAt: Date?, on connection: PostgresConnection
    ) async throws {
        let request = accepted.request, delivery = accepted.delivery(channel)
        try await connection.query(
            """
            INSERT INTO notifications.deliveries (id, tenant_id, notification_id, channel, address, state, last_error, not_before)
            VALUES (\(delivery), \(request.tenantId), \(accepted.id), \(channel.rawValue), \(address), \(state), \(error), \(runAt))
            """, logger: database.logger)
        try await NotificationDelivery(
            tenantId: request.tenantId, notificationId: accepted.id, deliveryId: delivery, idempotencyKey: request.idempotencyKey, channel: channel.rawValue,
            state: state, category: request.category, templateKey: request.templateKey, recipientUserId: request.recipient.userId,
            error: error, occurredAt: accepted.now
        ).announce(database: database, on: connection)
    }

    /// Renders as the key itself when no template exists for it, so nothing is lost.
    static let fallback = TemplateParts(subject: "Notification", text: "{{recipientName}}", html: nil)

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
