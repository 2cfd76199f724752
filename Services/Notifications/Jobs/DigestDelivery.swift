import Contracts
import Foundation
import Jobs
import Mail
import Persistence
import PostgresNIO

/// The job that sends one user's daily digest.
struct DigestJob: Codable, Sendable {
    var userId: UUID
}

extension Preferences {
    /// The next local digest time after `now` in the user's zone.
    func nextDigest(after now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        let minutes = QuietHours.minutes(digestTime) ?? 8 * 60
        return calendar.nextDate(after: now, matching: DateComponents(hour: minutes / 60, minute: minutes % 60, second: 0), matchingPolicy: .nextTime)
            ?? now.addingTimeInterval(86400)
    }
}

/// Sends the digest: every low-priority email of the user waiting for it (due within the
/// 30-minute window) in one message, each of them then marked sent and announced.
struct DigestDelivery: Sendable {
    let email: EmailDelivery
    static let window: TimeInterval = 30 * 60

    static func kind(
        maxAttempts: Int = 10, retryDelay: @escaping @Sendable (Int) -> Duration = Backoff.delay(afterAttempt:),
        tenantRate: (@Sendable (UUID) -> Double?)? = nil
    ) -> JobKind<DigestJob> {
        JobKind(
            "notifications.send-digest", queue: "email", maxAttempts: maxAttempts, timeout: .seconds(90), tenantRate: tenantRate,
            retryDelay: retryDelay)
    }

    static func uniqueKey(_ user: UUID) -> String { "digest/\(user.uuidString.lowercased())" }

    func run(_ job: DigestJob, context: JobContext) async throws {
        let tenant = context.tenantID
        let database = email.database
        let items = try await PendingDeliveries(database: database).digestItems(of: job.userId, within: Self.window, tenant: tenant)
        guard let first = items.first else { return }
        let parts =
            try await database.withTenant(tenant) { connection in
                try await email.templates.parts(for: TemplateCatalog.digestKey, locale: TemplateCatalog.defaultLocale, on: connection)
            } ?? NotificationStore.fallback
        let data: [String: Any] = [
            "appUrl": email.appURL, "recipientEmail": first.address, "count": String(items.count),
            "items": items.map { ["title": $0.title, "body": $0.body] },
        ]
        let rendered = TemplateCatalog.render(parts, data: data)
        let message = email.message(
            to: first.address, rendered, id: "digest-\(context.id)", unsubscribe: "\(email.appURL)/settings/notifications?digest=off")
        do {
            try await email.mailer.send(message)
        } catch let failure as SMTPFailure {
            guard case .rejected = failure else { throw failure }
            try await finish(
                items, tenant: tenant, state: "failed", eventState: "bounced", error: failure.description, messageID: nil, user: job.userId)
            return
        }
        try await finish(items, tenant: tenant, state: "sent", eventState: "sent", error: nil, messageID: message.messageID, user: job.userId)
    }

    private func finish(
        _ items: [DigestItem], tenant: UUID, state: String, eventState: String, error: String?, messageID: String?, user: UUID
    ) async throws {
        let outcomes = items.map { item in
            NotificationDelivery(
                tenantId: tenant, notificationId: item.notification, deliveryId: item.delivery, idempotencyKey: item.idempotencyKey, channel: "email",
                state: eventState, category: item.category, templateKey: item.templateKey, recipientUserId: user, error: error, occurredAt: Date())
        }
        try await DeliveryStore(database: email.database).finish(outcomes, state: state, messageID: messageID, tenant: tenant)
    }
}
