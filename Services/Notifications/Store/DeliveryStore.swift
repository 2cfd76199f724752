import Contracts
import Foundation
import Persistence
import PostgresNIO

/// The end of a channel's delivery, or of several sent as one message (a digest): the
/// rows' state and each outcome on notifications.delivery.v1, in one transaction.
struct DeliveryStore: Sendable {
    let database: Database

    /// `state` is the row's (`sent` or `failed`); each outcome carries what is announced
    /// (a rejected email is `bounced`).
    func finish(_ outcomes: [NotificationDelivery], state: String, messageID: String? = nil, tenant: UUID) async throws {
        guard !outcomes.isEmpty else { return }
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                UPDATE notifications.deliveries
                SET state = \(state), attempts = attempts + 1, last_error = \(outcomes[0].error), message_id = \(messageID),
                    sent_at = CASE WHEN \(state) = 'sent' THEN now() END, updated_at = now()
                WHERE id = ANY(\(outcomes.map(\.deliveryId)))
                """, logger: database.logger)
            try await NotificationDelivery.announce(outcomes, database: database, on: connection)
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
