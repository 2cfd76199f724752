import Contracts
import Crypto
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// Social login's server-side state: authorization requests in flight, linked
/// identities, and the one-time codes the SPA exchanges for our tokens.
struct IdentityStore: Sendable {
    static let requestLifetime = 600
    static let codeLifetime = 120
    let database: Database
    let accounts: AccountStore

    struct PendingRequest: Sendable {
        var state: String
        var nonce: String
        var codeVerifier: String
        var codeChallenge: String
    }

    func begin(provider: String, redirectURI: String, tenantID: UUID?) async throws -> PendingRequest {
        let state = OpaqueToken.random()
        let nonce = OpaqueToken.random().text
        // RFC 7636 §4.1: 43 characters of base64url from 32 random bytes.
        let verifier = OpaqueToken.random().text
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLString
        try await database.query(
            """
            INSERT INTO auth.oauth_requests (state_hash, provider, nonce, code_verifier, redirect_uri, tenant_id, expires_at)
            VALUES (\(state.hash), \(provider), \(nonce), \(verifier), \(redirectURI), \(tenantID), now() + make_interval(secs => \(Self.requestLifetime)))
            """, logger: database.logger)
        return PendingRequest(state: state.text, nonce: nonce, codeVerifier: verifier, codeChallenge: challenge)
    }

    struct TakenRequest: Sendable {
        var nonce: String
        var codeVerifier: String
        var redirectURI: String
        var tenantID: UUID?
    }

    /// Spends the request named by `state`: a state works once, within its lifetime.
    func take(state: String, provider: String) async throws -> TakenRequest? {
        let rows = try await database.query(
            """
            UPDATE auth.oauth_requests SET used_at = now()
            WHERE state_hash = \(OpaqueToken.hash(state)) AND provider = \(provider) AND used_at IS NULL AND expires_at > now()
            RETURNING nonce, code_verifier, redirect_uri, tenant_id
            """, logger: database.logger)
        for try await (nonce, verifier, redirect, tenant) in rows.decode((String, String, String, UUID?).self) {
            return TakenRequest(nonce: nonce, codeVerifier: verifier, redirectURI: redirect, tenantID: tenant)
        }
        return nil
    }

    enum Resolution: Sendable {
        case user(UUID)
        /// The email belongs to an account that this sign-in may not take over.
        case refused(String)
    }

    /// Finds the user behind a provider identity: already linked; or linked now, when a
    /// verified provider email matches a verified user; or a new user with a tenant of
    /// their own. An unverified email never links.
    func resolve(_ profile: ProviderProfile, provider: String) async throws -> Resolution {
        try await database.withTransaction { connection in
            let linked = try await connection.query(
                "SELECT user_id FROM auth.external_identities WHERE provider = \(provider) AND subject = \(profile.subject)",
                logger: database.logger)
            for try await userID in linked.decode(UUID.self) { return .user(userID) }
            guard let email = profile.email, AccountRules.isPlausibleEmail(email) else {
                return .refused("The provider did not share an email address.")
            }
            if let existing = try await accounts.credentials(email: email) {
                guard profile.emailVerified, existing.user.emailVerified else {
                    return .refused("An account with this email exists; sign in with its password to link \(provider).")
                }
                try await link(userID: existing.user.id, provider: provider, profile: profile, on: connection)
                return .user(existing.user.id)
            }
            let name = (profile.name?.isEmpty == false ? profile.name : nil) ?? String(email.split(separator: "@")[0])
            let tenantID = UUID.v7()
            try await connection.query("SELECT set_config('app.tenant_id', \(tenantID.uuidString.lowercased()), true)", logger: database.logger)
            let tenantName = "\(name)'s workspace"
            let slug = try await accounts.insertTenant(tenantID, name: tenantName, slug: AccountRules.slug(from: tenantName), on: connection)
            try await accounts.outbox.tenant(
                TenantRecord(id: tenantID, name: tenantName, slug: slug, status: "active", plan: Plan.free.rawValue), version: 1,
                type: TenantEvent.created, on: connection)
            let user = try await accounts.createUser(
                email: email, name: name, passwordHash: nil, emailVerified: profile.emailVerified, tenantID: tenantID, on: connection)
            try await accounts.addMember(user, tenantID: tenantID, role: .owner, on: connection)
            try await link(userID: user.id, provider: provider, profile: profile, on: connection)
            return .user(user.id)
        }
    }

    func link(userID: UUID, provider: String, profile: ProviderProfile, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO auth.external_identities (provider, subject, user_id, email)
            VALUES (\(provider), \(profile.subject), \(userID), \(profile.email))
            """, logger: database.logger)
    }

    func issueCode(userID: UUID, tenantID: UUID?, redirectURI: String) async throws -> OpaqueToken {
        let code = OpaqueToken.random()
        try await database.query(
            """
            INSERT INTO auth.oauth_codes (code_hash, user_id, tenant_id, redirect_uri, expires_at)
            VALUES (\(code.hash), \(userID), \(tenantID), \(redirectURI), now() + make_interval(secs => \(Self.codeLifetime)))
            """, logger: database.logger)
        return code
    }

    /// Spends a one-time code issued for `redirectURI`.
    func redeem(code: String, redirectURI: String) async throws -> (userID: UUID, tenantID: UUID?)? {
        let rows = try await database.query(
            """
            UPDATE auth.oauth_codes SET used_at = now()
            WHERE code_hash = \(OpaqueToken.hash(code)) AND redirect_uri = \(redirectURI) AND used_at IS NULL AND expires_at > now()
            RETURNING user_id, tenant_id
            """, logger: database.logger)
        for try await (user, tenant) in rows.decode((UUID, UUID?).self) { return (user, tenant) }
        return nil
    }

    struct LinkedIdentity: Codable, Sendable {
        var provider: String
        var subject: String
        var email: String?
        var linkedAt: Date
    }

    func identities(of userID: UUID) async throws -> [LinkedIdentity] {
        let rows = try await database.query(
            "SELECT provider, subject, email, linked_at FROM auth.external_identities WHERE user_id = \(userID) ORDER BY linked_at",
            logger: database.logger)
        var items: [LinkedIdentity] = []
        for try await (provider, subject, email, at) in rows.decode((String, String, String?, Date).self) {
            items.append(LinkedIdentity(provider: provider, subject: subject, email: email, linkedAt: at))
        }
        return items
    }

    enum Unlink: Sendable {
        case unlinked, notLinked, lastWayIn
    }

    /// Unlinks, unless it would leave the user no way to sign in.
    func unlink(userID: UUID, provider: String) async throws -> Unlink {
        try await database.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT password_hash IS NOT NULL FROM auth.users WHERE id = \(userID) FOR UPDATE),
                       (SELECT count(*)::int FROM auth.external_identities WHERE user_id = \(userID)),
                       (SELECT count(*)::int FROM auth.external_identities WHERE user_id = \(userID) AND provider = \(provider))
                """, logger: database.logger)
            for try await (hasPassword, total, matching) in rows.decode((Bool?, Int, Int).self) {
                if matching == 0 { return .notLinked }
                if hasPassword != true && total - matching == 0 { return .lastWayIn }
            }
            try await connection.query(
                "DELETE FROM auth.external_identities WHERE user_id = \(userID) AND provider = \(provider)", logger: database.logger)
            return .unlinked
        }
    }
}
