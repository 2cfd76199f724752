import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// Tickets that open an inbox stream once (ARCHITECTURE: SSE authentication by ticket).
struct StreamTicketStore: Sendable {
    let database: Database
    /// Seconds a ticket may wait to be redeemed.
    static let lifetime = 30

    /// A new ticket for `user` of `tenant`; expired ones are cleared on the way.
    func issue(user: UUID, tenant: UUID) async throws -> OpaqueToken {
        let ticket = OpaqueToken.random(prefix: "stk_")
        try await database.withTransaction { connection in
            try await connection.query(
                "DELETE FROM notifications.stream_tickets WHERE expires_at < now() - interval '1 hour'", logger: database.logger)
            try await connection.query(
                """
                INSERT INTO notifications.stream_tickets (ticket_hash, tenant_id, user_id, expires_at)
                VALUES (\(ticket.hash), \(tenant), \(user), now() + make_interval(secs => \(Self.lifetime)))
                """, logger: database.logger)
        }
        return ticket
    }

    /// The user and tenant a valid, unused ticket was issued to; it is used up by this.
    func redeem(_ text: String) async throws -> (user: UUID, tenant: UUID)? {
        let rows = try await database.query(
            """
            UPDATE notifications.stream_tickets SET used_at = now()
            WHERE ticket_hash = \(OpaqueToken.hash(text)) AND used_at IS NULL AND expires_at > now()
            RETURNING user_id, tenant_id
            """, logger: database.logger)
        for try await (user, tenant) in rows.decode((UUID, UUID).self) { return (user, tenant) }
        return nil
    }
}
