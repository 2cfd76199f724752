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

    /// A tenant's requests in one transaction, with a fixed number of statements however
    /// many there are: what they need is read for all at once, and written likewise.
    func accept(_ requests: [NotificationRequest], tenant: UUID, now: Date = Date()) async throws {
        var keys: Set<String> = []
        let requests = requests.filter { $0.tenantId == tenant && keys.insert($0.idempotencyKey).inserted }
        guard !requests.isEmpty else { return }
        try await database.withTenant(tenant) { connection in
            let users = Array(Set(requests.compactMap(\.recipient.userId)))
            let people = try await members.members(users, on: connection)
            let saved = try await preferences.preferences(of: users, on: connection)
            let choices = try await templates.choices(for: Set(requests.map(\.templateKey)), on: connection)
            let subscribed = try await push.subscribed(users, on: connection)
            let planned = try requests.map { request in
                try plan(
                    request, member: request.recipient.userId.flatMap { people[$0] }, choices: choices, now: now,
                    preferences: request.recipient.userId.flatMap { saved[$0] } ?? .standard)
            }
            let stored = try await insert(planned, tenant: tenant, on: connection)
            let suppressed = try await AddressSuppressionStore.suppressed(
                Set(planned.compactMap { $0.address?.lowercased() }), on: connection, logger: database.logger)
            try await queue(planned.filter { stored.contains($0.accepted.id) }, subscribed: subscribed, suppressed: suppressed, on: connection)
        }
    }

    /// A request with everything decided that needs no more reading.
    struct Planned: Sendable {
        var accepted: Accepted
        var address: String?
        var wanted: Set<String>
        var inApp: Bool
        var locale: String
        var message: RenderedMessage
        var data: String
    }

    private func plan(
        _ request: NotificationRequest, member: Member?, choices: TemplateChoices, now: Date, preferences: Preferences
    ) throws -> Planned {
        let address = request.recipient.email ?? member?.email
        let name = member?.name ?? request.recipient.email ?? ""
        let wanted = Set(request.channels.isEmpty ? (request.recipient.userId == nil ? ["email"] : ["email", "in_app", "push"]) : request.channels)
        // Security emails carry one-time tokens: never in the inbox, and their text (which
        // holds the link) is not kept; the email is rendered from the data when it is sent.
        let security = TemplateCatalog.isSecurity(request.templateKey)
        let inApp =
            !security && request.recipient.userId != nil && wanted.contains(Channel.inApp.rawValue)
            && preferences.allows(.inApp, category: request.category)
        let locale = request.data["locale"] ?? TemplateCatalog.defaultLocale
        let parts = choices.parts(for: request.templateKey, locale: locale) ?? Self.fallback
        let context = TemplateCatalog.context(request.data, appURL: appURL, recipientName: name, recipientEmail: address ?? "")
        var message = TemplateCatalog.render(parts, data: context)
        if security { message.text = "" }
        return Planned(
            accepted: Accepted(id: .v7(), request: request, preferences: preferences, now: now), address: address, wanted: wanted, inApp: inApp,
            locale: locale, message: message,
            data: String(decoding: try JSONEncoder().encode(request.data), as: UTF8.self))
    }

    /// Inserts the notifications not seen before; answers the ids stored. Each user's inbox
    /// numbers its notifications in commit order (the stream resumes after the last number
    /// it sent and must not skip a late commit): the users' locks are taken first, in one
    /// order for every transaction so two batches cannot deadlock.
    private func insert(_ planned: [Planned], tenant: UUID, on connection: PostgresConnection) async throws -> Set<UUID> {
        let inboxUsers = Set(planned.filter(\.inApp).compactMap { $0.accepted.request.recipient.userId?.uuidString })
        if !inboxUsers.isEmpty {
            try await connection.query(
                """
                SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(u, 0) AS k FROM unnest(\(Array(inboxUsers))::text[]) AS u ORDER BY 1) AS locks
                """, logger: database.logger)
        }
        let requests = planned.map(\.accepted.request)
        let rows = try await connection.query(
            """
            WITH input AS (
              SELECT * FROM unnest(
                \(planned.map(\.accepted.id))::uuid[], \(requests.map(\.idempotencyKey))::text[],
                \(requests.map { $0.recipient.userId?.uuidString ?? "" })::text[], \(planned.map { $0.address ?? "" })::text[],
                \(requests.map(\.category))::text[], \(requests.map(\.templateKey))::text[], \(planned.map(\.locale))::text[],
                \(requests.map(\.priority.rawValue))::text[], \(planned.map(\.data))::text[], \(planned.map(\.message.subject))::text[],
                \(planned.map(\.message.text))::text[], \(planned.map(\.inApp))::bool[]
              ) WITH ORDINALITY AS i(id, idempotency_key, user_id, email, category, template_key, locale, priority, data, title, body, in_app, ord)
            ), fresh AS (
              SELECT i.*, NULLIF(i.user_id, '')::uuid AS recipient FROM input i
              WHERE NOT EXISTS (SELECT 1 FROM notifications.notifications n WHERE n.tenant_id = \(tenant) AND n.idempotency_key = i.idempotency_key)
            )
            INSERT INTO notifications.notifications
              (id, tenant_id, idempotency_key, user_id, email, category, template_key, locale, priority, data, title, body, in_app, seq)
            SELECT f.id, \(tenant), f.idempotency_key, f.recipient, NULLIF(f.email, ''), f.category, f.template_key, f.locale, f.priority,
                   f.data::jsonb, f.title, f.body, f.in_app,
                   CASE WHEN f.in_app THEN
                     (SELECT COALESCE(max(n.seq), 0) FROM notifications.notifications n WHERE n.tenant_id = \(tenant) AND n.user_id = f.recipient AND n.in_app)
                     + row_number() OVER (PARTITION BY f.recipient, f.in_app ORDER BY f.ord)
                   END
            FROM fresh f
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            RETURNING id
            """, logger: database.logger)
        var stored: Set<UUID> = []
        for try await (id, ) in rows.decode((UUID,).self) { stored.insert(id) }
        return stored
    }

    /// The deliveries of the notifications just stored, their first outcomes on
    /// notifications.delivery.v1, and their jobs.
    private func queue(_ planned: [Planned], subscribed: Set<UUID>, suppressed: Set<String>, on connection: PostgresConnection) async throws {
        var deliveries: [Delivery] = []
        var emails: [(tenant: UUID, arguments: EmailJob)] = []
        var emailTimes: [Date?] = []
        var pushes: [(tenant: UUID, arguments: PushJob)] = []
        var pushTimes: [Date?] = []
        var digests: [(user: UUID, runAt: Date?)] = []
        var digestUsers: Set<UUID> = []
        for item in planned {
            let accepted = item.accepted
            let request = accepted.request
            if item.wanted.contains(Channel.email.rawValue) {
                let delivery = emailDelivery(accepted, address: item.address, suppressed: suppressed)
                deliveries.append(delivery)
                if delivery.state == "digest", let user = request.recipient.userId {
                    if digestUsers.insert(user).inserted { digests.append((user, delivery.runAt)) }
                } else if delivery.state == "queued" || delivery.state == "deferred" {
                    emails.append((request.tenantId, EmailJob(deliveryId: delivery.id)))
                    emailTimes.append(delivery.runAt)
                }
            }
            if item.wanted.contains(Channel.push.rawValue), let user = request.recipient.userId,
                accepted.preferences.allows(.push, category: request.category),
                subscribed.contains(user)
            {
                let (state, runAt) = accepted.timing(digestible: false)
                deliveries.append(Delivery(accepted: accepted, channel: .push, address: "", state: state, error: nil, runAt: runAt))
                pushes.append((request.tenantId, PushJob(deliveryId: accepted.delivery(.push))))
                pushTimes.append(runAt)
            }
        }
        try await record(deliveries, on: connection)
        // The inbox is the one channel that knows when it delivered (now) and when it was opened.
        let inbox = planned.filter(\.inApp).map(\.accepted)
        try await NotificationDelivery.announce(
            inbox.map { accepted in
                let request = accepted.request
                return InboxEntry(
                    id: accepted.id, idempotencyKey: request.idempotencyKey, category: request.category, templateKey: request.templateKey
                )
                .outcome("delivered", tenant: request.tenantId, user: request.recipient.userId, at: accepted.now)
            }, database: database, on: connection)
        try await jobs.enqueueMany(sendEmail, emails, runAt: emailTimes, on: connection)
        try await jobs.enqueueMany(sendPush, pushes, runAt: pushTimes, on: connection)
        // One digest job per user while one is pending: later items join it.
        for (user, runAt) in digests {
            guard let tenant = planned.first?.accepted.request.tenantId else { break }
            try await jobs.enqueue(
                sendDigest, DigestJob(userId: user), tenant: tenant, options: .init(runAt: runAt, uniqueKey: DigestDelivery.uniqueKey(user)),
                on: connection)
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

    /// One channel of a notification: the row to write and its first outcome.
    struct Delivery: Sendable {
        var accepted: Accepted
        var channel: Channel
        var address: String
        var state: String
        var error: String?
        var runAt: Date?

        var id: UUID { accepted.delivery(channel) }

        var outcome: NotificationDelivery {
            let request = accepted.request
            return NotificationDelivery(
                tenantId: request.tenantId, notificationId: accepted.id, deliveryId: id, idempotencyKey: request.idempotencyKey,
                channel: channel.rawValue,
                state: state, category: request.category, templateKey: request.templateKey, recipientUserId: request.recipient.userId, error: error,
                occurredAt: accepted.now)
        }
    }

    private var jobs: JobQueue { JobQueue(schema: "notifications") }

    /// Failed without an address, suppressed when opted out or when campaigns suppressed the
    /// address, else queued, deferred or into the digest.
    private func emailDelivery(_ accepted: Accepted, address: String?, suppressed: Set<String>) -> Delivery {
        let category = accepted.request.category
        guard let address else {
            return Delivery(accepted: accepted, channel: .email, address: "", state: "failed", error: "no email address is known for the recipient")
        }
        guard !suppressed.contains(address.lowercased()) else {
            return Delivery(
                accepted: accepted, channel: .email, address: address, state: "suppressed",
                error: "the address bounced or complained (campaigns suppressed it)")
        }
        guard accepted.preferences.allows(.email, category: category) else {
            return Delivery(
                accepted: accepted, channel: .email, address: address, state: "suppressed", error: "the recipient turned off email for \(category)")
        }
        let (state, runAt) = accepted.timing(digestible: true)
        return Delivery(accepted: accepted, channel: .email, address: address, state: state, error: nil, runAt: runAt)
    }

    /// The delivery rows and their first outcomes on notifications.delivery.v1.
    private func record(_ deliveries: [Delivery], on connection: PostgresConnection) async throws {
        guard let tenant = deliveries.first?.accepted.request.tenantId else { return }
        try await connection.query(
            """
            INSERT INTO notifications.deliveries (id, tenant_id, notification_id, channel, address, state, last_error, not_before)
            SELECT id, \(tenant), notification_id, channel, address, state, NULLIF(last_error, ''), CASE WHEN not_before < 0 THEN NULL ELSE to_timestamp(not_before) END
            FROM unnest(\(deliveries.map(\.id))::uuid[], \(deliveries.map(\.accepted.id))::uuid[], \(deliveries.map(\.channel.rawValue))::text[],
                        \(deliveries.map(\.address))::text[], \(deliveries.map(\.state))::text[], \(deliveries.map { $0.error ?? "" })::text[],
                        \(deliveries.map { $0.runAt?.timeIntervalSince1970 ?? -1 })::float8[])
              AS d(id, notification_id, channel, address, state, last_error, not_before)
            """, logger: database.logger)
        try await NotificationDelivery.announce(deliveries.map(\.outcome), database: database, on: connection)
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
            for try await (latest, ) in rows.decode((Int,).self) { return latest }
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
            for try await (count, ) in rows.decode((Int,).self) { return count }
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
            // Read for the first time: opened. The row is locked so two reads cannot both be first.
            let opening =
                mark == .unread
                ? []
                : try await entries(
                    "SELECT id, idempotency_key, category, template_key FROM notifications.notifications WHERE id = \(id) AND user_id = \(user) AND in_app AND read_at IS NULL FOR UPDATE",
                    on: connection)
            let item = try await items(
                try await connection.query(
                    """
                    UPDATE notifications.notifications SET \(unescaped: change)
                    WHERE id = \(id) AND user_id = \(user) AND in_app RETURNING \(unescaped: Self.columns)
                    """, logger: database.logger)
            ).first
            try await announceOpened(opening, user: user, tenant: tenant, on: connection)
            return item
        }
    }

    func markAllRead(user: UUID, tenant: UUID) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            let opened = try await entries(
                """
                UPDATE notifications.notifications SET read_at = now()
                WHERE user_id = \(user) AND in_app AND read_at IS NULL RETURNING id, idempotency_key, category, template_key
                """, on: connection)
            try await announceOpened(opened, user: user, tenant: tenant, on: connection)
            return opened.count
        }
    }

    /// A notification the inbox announces an outcome of.
    struct InboxEntry: Sendable {
        var id: UUID
        var idempotencyKey: String
        var category: String
        var templateKey: String

        /// The in-app channel's outcome; its delivery id is the notification's.
        func outcome(_ state: String, tenant: UUID, user: UUID?, at time: Date) -> NotificationDelivery {
            NotificationDelivery(
                tenantId: tenant, notificationId: id, deliveryId: id, idempotencyKey: idempotencyKey, channel: Channel.inApp.rawValue, state: state,
                category: category, templateKey: templateKey, recipientUserId: user, error: nil, occurredAt: time)
        }
    }

    /// `query` answers id, idempotency_key, category, template_key.
    private func entries(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [InboxEntry] {
        var entries: [InboxEntry] = []
        for try await (id, key, category, template) in try await connection.query(query, logger: database.logger).decode(
            (UUID, String, String, String).self)
        {
            entries.append(InboxEntry(id: id, idempotencyKey: key, category: category, templateKey: template))
        }
        return entries
    }

    private func announceOpened(_ entries: [InboxEntry], user: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        let now = Date()
        try await NotificationDelivery.announce(
            entries.map { $0.outcome("opened", tenant: tenant, user: user, at: now) }, database: database, on: connection)
    }
}
