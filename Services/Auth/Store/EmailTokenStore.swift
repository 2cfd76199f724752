import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// Single-use, expiring tokens sent by email. Issuing one voids the user's earlier
/// unused tokens of the same purpose, so only the newest link works.
struct EmailTokenStore: Sendable {
    enum Purpose: String, Sendable {
        case verifyEmail = "verify_email"
        case resetPassword = "reset_password"

        var lifetime: Int {
            switch self {
            case .verifyEmail: 48 * 3600
            case .resetPassword: 3600
            }
        }
    }

    let database: Database

    func issue(userID: UUID, purpose: Purpose, on connection: PostgresConnection) async throws -> OpaqueToken {
        let token = OpaqueToken.random()
        try await connection.query(
            "UPDATE auth.email_tokens SET used_at = now() WHERE user_id = \(userID) AND purpose = \(purpose.rawValue) AND used_at IS NULL",
            logger: database.logger)
        try await connection.query(
            """
            INSERT INTO auth.email_tokens (token_hash, user_id, purpose, expires_at)
            VALUES (\(token.hash), \(userID), \(purpose.rawValue), now() + make_interval(secs => \(purpose.lifetime)))
            """, logger: database.logger)
        return token
    }

    /// Spends the token; answers its user, or nil when it is unknown, used or expired.
    func consume(_ text: String, purpose: Purpose, on connection: PostgresConnection) async throws -> UUID? {
        let rows = try await connection.query(
            """
            UPDATE auth.email_tokens SET used_at = now()
            WHERE token_hash = \(OpaqueToken.hash(text)) AND purpose = \(purpose.rawValue) AND used_at IS NULL AND expires_at > now()
            RETURNING user_id
            """, logger: database.logger)
        for try await userID in rows.decode(UUID.self) { return userID }
        return nil
    }
}
