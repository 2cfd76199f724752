import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable {
    /// Rotated (or replayed inside the grace window): here is the successor, and the user
    /// and membership it is for (nil when the membership is gone).
    case rotated(successor: TenantToken, profile: (UserRecord, Membership)?)
    /// Unknown, expired or revoked.
    case invalid
    /// A spent token presented after the grace window: the family is now revoked.
    case reused
}

/// SQL for refresh-token families.
struct SessionStore: Sendable {
    let database: Database
    let successorKey: [UInt8]
    let idleLifetime: Int
    let absoluteLifetime: Int
    let graceSeconds: Int

    /// Starts a family for a fresh login.
    func start(userID: UUID, tenantID: UUID) async throws -> TenantToken {
        let token = TenantToken.random(tenantID: tenantID)
        try await database.withTenant(tenantID) { connection in
            try await insert(token, userID: userID, family: UUID.v7(), familyExpiresIn: absoluteLifetime, on: connection)
        }
        return token
    }

    func insert(_ token: TenantToken, userID: UUID, family: UUID, familyExpiresIn: Int, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO auth.refresh_tokens (token_hash, tenant_id, user_id, family_id, expires_at, family_expires_at)
            VALUES (\(ByteBuffer(bytes: token.hash)), \(token.tenantID), \(userID), \(family),
                    now() + make_interval(secs => \(idleLifetime)), now() + make_interval(secs => \(familyExpiresIn)))
            """, logger: database.logger)
    }

    /// Rotates `token`. The spend is one conditional UPDATE, so of two concurrent
    /// refreshes exactly one rotates; the other sees a token spent within the grace
    /// window and gets the same, derived, successor.
    func refresh(_ token: TenantToken) async throws -> RefreshOutcome {
        let successor = token.successor(key: successorKey)
        let hash = ByteBuffer(bytes: token.hash)
        let successorHash = ByteBuffer(bytes: successor.hash)
        // The hot path of every client: one statement, one round trip (migration 0003).
        let rotated = try await database.query(
            "SELECT * FROM auth.rotate_refresh_token(\(token.tenantID), \(hash), \(successorHash), \(idleLifetime)::integer)",
            logger: database.logger)
        for try await (uid, email, name, verified, isOperator, tid, tname, slug, status, plan, role) in rotated.decode(
            (UUID, String, String, Bool, Bool, UUID?, String?, String?, String?, String?, String?).self)
        {
            // The membership may be gone: then the session is over.
            guard let tid, let tname, let slug, let status, let plan, let role else { return .rotated(successor: successor, profile: nil) }
            let user = UserRecord(id: uid, email: email, name: name, emailVerified: verified, platformOperator: isOperator)
            let membership = Membership(tenant: TenantRecord(id: tid, name: tname, slug: slug, status: status, plan: plan), role: role)
            return .rotated(successor: successor, profile: (user, membership))
        }
        return try await unspendable(token, successor: successor)
    }

    /// Why a token could not be spent: unknown, expired or revoked; a retry inside the grace
    /// window (the same successor again); or reuse, which ends the family.
    func unspendable(_ token: TenantToken, successor: TenantToken) async throws -> RefreshOutcome {
        let hash = ByteBuffer(bytes: token.hash)
        let successorHash = ByteBuffer(bytes: successor.hash)
        let accounts = AccountStore(database: database)
        return try await database.withTenant(token.tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT user_id, family_id, revoked_at IS NOT NULL, spent_at IS NOT NULL,
                       spent_at > now() - make_interval(secs => \(graceSeconds)), successor_hash = \(successorHash)
                FROM auth.refresh_tokens WHERE token_hash = \(hash)
                """, logger: database.logger)
            for try await (userID, family, revoked, isSpent, withinGrace, successorMatches) in rows.decode(
                (UUID, UUID, Bool, Bool, Bool?, Bool?).self)
            {
                if revoked { return .invalid }
                guard isSpent else { return .invalid }  // expired, never spent
                if withinGrace == true, successorMatches == true, try await isUsable(successorHash, on: connection) {
                    return .rotated(
                        successor: successor, profile: try await accounts.profile(userID: userID, tenantID: token.tenantID, on: connection))
                }
                // Reuse outside the window: treat as theft (RFC 9700 §4.14.2) and end the family.
                try await connection.query(
                    "UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL",
                    logger: database.logger)
                return .reused
            }
            return .invalid
        }
    }

    func isUsable(_ hash: ByteBuffer, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT 1 FROM auth.refresh_tokens WHERE token_hash = \(hash) AND revoked_at IS NULL AND expires_at > now()",
            logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Logout: ends the family `token` belongs to. Answers false for an unknown token.
    func revokeFamily(of token: TenantToken) async throws -> Bool {
        try await database.withTenant(token.tenantID) { connection in
            let rows = try await connection.query(
                """
                UPDATE auth.refresh_tokens SET revoked_at = now()
                WHERE family_id = (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = \(ByteBuffer(bytes: token.hash)))
                  AND revoked_at IS NULL
                RETURNING 1
                """, logger: database.logger)
            var count = 0
            for try await _ in rows { count += 1 }
            if count > 0 { return true }
            return try await exists(token, on: connection)
        }
    }

    private func exists(_ token: TenantToken, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT 1 FROM auth.refresh_tokens WHERE token_hash = \(ByteBuffer(bytes: token.hash))", logger: database.logger)
        for try await _ in rows { return true }
        return false
    }

    /// Ends every session of the user in the tenant the caller's transaction runs under.
    func revokeAll(userID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE auth.refresh_tokens SET revoked_at = now() WHERE user_id = \(userID) AND revoked_at IS NULL", logger: database.logger)
    }

    /// Ends every session of the user in each of `tenants` (one transaction, switching tenant).
    func revokeAll(userID: UUID, tenants: [UUID], on connection: PostgresConnection) async throws {
        for tenant in tenants {
            try await connection.query("SELECT set_config('app.tenant_id', \(tenant.uuidString.lowercased()), true)", logger: database.logger)
            try await revokeAll(userID: userID, on: connection)
        }
    }
}
