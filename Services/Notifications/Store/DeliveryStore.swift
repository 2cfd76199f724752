import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The end of a channel's delivery, or of several sent as one message (a digest): the
/// rows' state and each outcome on notifications.delivery.v1, in one transaction.
struct DeliveryStore: Sendable {
    let database: Database

    /// One delivery's end: the row's `state` (`sent` or `failed`) and the outcome that is
    /// announced (a rejected email is `bounced`).
    struct Finished: Sendable {
        var outcome: NotificationDelivery
        var state: String
        var messageID: String?
    }

    /// Several deliveries that end with the same state (a digest's).
    func finish(_ outcomes: [NotificationDelivery], state: String, messageID: String? = nil, tenant: UUID) async throws {
        try await finish(outcomes.map { Finished(outcome: $0, state: state, messageID: messageID) }, tenant: tenant)
    }

    /// Deliveries of one tenant, each with its own state, error and Message-ID, in one statement.
    func finish(_ finished: [Finished], tenant: UUID) async throws {
        guard !finished.isEmpty else { return }
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE notifications.deliveries d
                SET state = f.state, attempts = d.attempts + 1, last_error = NULLIF(f.error, ''), message_id = NULLIF(f.message_id, ''),
                    sent_at = CASE WHEN f.state = 'sent' THEN now() END, updated_at = now()
                FROM unnest(\(finished.map(\.outcome.deliveryId))::uuid[], \(finished.map(\.state))::text[],
                            \(finished.map { $0.outcome.error ?? "" })::text[], \(finished.map { $0.messageID ?? "" })::text[])
                     AS f(id, state, error, message_id)
                WHERE d.id = f.id
                """, logger: database.logger)
            // A security email's data holds a one-time token: kept only until it is sent or given up.
            let spent = finished.filter { TemplateCatalog.isSecurity($0.outcome.templateKey) }.map(\.outcome.notificationId)
            if !spent.isEmpty {
                try await connection.query(
                    """
                    UPDATE notifications.notifications n SET data = '{}'::jsonb
                    WHERE n.id = ANY(\(spent))
                      AND NOT EXISTS (SELECT 1 FROM notifications.deliveries d WHERE d.notification_id = n.id AND d.state IN ('queued', 'deferred'))
                    """, logger: database.logger)
            }
            try await NotificationDelivery.announce(finished.map(\.outcome), database: database, on: connection)
        }
    }
}

extension NotificationDelivery {
    /// Through the outbox, in the caller's transaction.
    func announce(database: Database, on connection: PostgresConnection) async throws {
        try await Self.announce([self], database: database, on: connection)
    }

    static func announce(_ outcomes: [NotificationDelivery], database: Database, on connection: PostgresConnection) async throws {
        try await database.outbox.append(
            outcomes.map { try .make($0, type: type, on: Topics.notificationsDelivery, source: NotificationStore.source, tenantID: $0.tenantId) },
            on: connection)
    }
}
