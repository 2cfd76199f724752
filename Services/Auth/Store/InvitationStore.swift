import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

struct InvitationRecord: Codable, Sendable {
    var id: UUID
    var email: String
    var role: String
    /// `pending`, `accepted`, `revoked` or `expired`.
    var status: String
    var createdAt: Date
    var expiresAt: Date
}

/// SQL for invitations. The token is tenant-bound (like refresh tokens), so accepting
/// runs under the inviting tenant's row-level security.
struct InvitationStore: Sendable {
    static let lifetime = 7 * 24 * 3600
    let database: Database
    let accounts: AccountStore
    var outbox: AuthOutbox { AuthOutbox(database: database) }

    static let columns = """
        id, email, role, CASE WHEN accepted_at IS NOT NULL THEN 'accepted' WHEN revoked_at IS NOT NULL THEN 'revoked'
        WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END, created_at, expires_at
        """

    func decode(_ rows: PostgresRowSequence) async throws -> [InvitationRecord] {
        var items: [InvitationRecord] = []
        for try await (id, email, role, status, created, expires) in rows.decode((UUID, String, String, String, Date, Date).self) {
            items.append(InvitationRecord(id: id, email: email, role: role, status: status, createdAt: created, expiresAt: expires))
        }
        return items
    }

    /// Invites `email`; a pending invitation for the same address is replaced. Emails the
    /// token through `notifications.request.v1`.
    func create(tenant: TenantDetails, email: String, role: Role, inviter: UserRecord?) async throws -> InvitationRecord {
        let token = TenantToken.random(tenantID: tenant.id)
        let normalized = AccountRules.normalizedEmail(email)
        return try await database.withTenant(tenant.id) { connection in
            try await connection.query("SELECT 1 FROM auth.tenants WHERE id = \(tenant.id) FOR UPDATE", logger: database.logger)
            let members = try await connection.query(
                """
                SELECT 1 FROM auth.memberships m JOIN auth.users u ON u.id = m.user_id
                WHERE m.tenant_id = \(tenant.id) AND u.email_normalized = \(normalized)
                """, logger: database.logger)
            for try await _ in members { throw AuthStoreError.alreadyMember(email: email) }
            try await connection.query(
                """
                UPDATE auth.invitations SET revoked_at = now()
                WHERE email_normalized = \(normalized) AND accepted_at IS NULL AND revoked_at IS NULL
                """, logger: database.logger)
            let pending = try await connection.query(
                "SELECT count(*)::int FROM auth.invitations WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()",
                logger: database.logger)
            for try await count in pending.decode(Int.self) where count >= tenant.limits.maxPendingInvitations {
                throw AuthStoreError.pendingInvitationLimit(plan: "\(tenant.plan)", limit: tenant.limits.maxPendingInvitations)
            }
            try await requireRoom(tenant, on: connection)
            let id = UUID.v7()
            let rows = try await connection.query(
                """
                INSERT INTO auth.invitations (id, tenant_id, email, email_normalized, role, token_hash, invited_by, expires_at)
                VALUES (\(id), \(tenant.id), \(email), \(normalized), \(role.rawValue), \(ByteBuffer(bytes: token.hash)), \(inviter?.id),
                        now() + make_interval(secs => \(Self.lifetime)))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            guard let invitation = try await decode(rows).first else { throw AuthStoreError.notFound }
            try await outbox.email(
                "auth.invitation", to: .init(email: email), tenantID: tenant.id, idempotencyKey: "auth.invitation/\(id.uuidString.lowercased())",
                data: ["tenantName": tenant.name, "inviterName": inviter?.name ?? tenant.name, "role": role.rawValue, "token": token.text],
                on: connection)
            return invitation
        }
    }

    func list(tenantID: UUID, page: PageRequest) async throws -> Page<InvitationRecord> {
        let after = try page.decodedCursor(KeysetPosition.self)
        return try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM auth.invitations
                WHERE (\(after?.at)::timestamptz IS NULL OR (created_at, id) < (\(after?.at), \(after?.id)))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
                """, logger: database.logger)
            let items = try await decode(rows)
            return Page(fetched: items, limit: page.limit) { KeysetPosition(at: $0.createdAt, id: $0.id) }
        }
    }

    /// Revokes a pending invitation. Nil when it does not exist in this tenant.
    func revoke(_ id: UUID, tenantID: UUID) async throws -> InvitationRecord? {
        try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM auth.invitations WHERE id = \(id) FOR UPDATE", logger: database.logger)
            guard let invitation = try await decode(rows).first else { return nil }
            guard invitation.status == "pending" else { throw AuthStoreError.invitationNotPending(status: invitation.status) }
            try await connection.query("UPDATE auth.invitations SET revoked_at = now() WHERE id = \(id)", logger: database.logger)
            return InvitationRecord(
                id: id, email: invitation.email, role: invitation.role, status: "revoked", createdAt: invitation.createdAt,
                expiresAt: invitation.expiresAt)
        }
    }

    enum Acceptance: Sendable {
        case joined(UserRecord, Membership)
        case needsPassword
    }

    /// Accepts: a new user is created (its email counts as verified, since the token came
    /// by email); an existing user proves who they are with their password.
    func accept(token: TenantToken, name: String?, password: String?, passwords: PasswordHasher) async throws -> Acceptance {
        var existing: AccountStore.Credentials?
        if let pending = try await pendingInvitation(token) { existing = try await accounts.credentials(email: pending.email) }
        var newHash: String?
        if let existing {
            guard let password, try await passwords.verify(password, hash: existing.passwordHash) else { return .needsPassword }
        } else if let password {
            newHash = try await passwords.hash(password)
        }
        return try await database.withTenant(token.tenantID) { connection in
            let rows = try await connection.query(
                """
                UPDATE auth.invitations SET accepted_at = now()
                WHERE token_hash = \(ByteBuffer(bytes: token.hash)) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                RETURNING email, role
                """, logger: database.logger)
            var found: (String, String)?
            for try await row in rows.decode((String, String).self) { found = row }
            guard let (email, roleName) = found, let role = Role(rawValue: roleName) else {
                throw AuthStoreError.invitationUnusable
            }
            let user: UserRecord
            if let existing {
                user = existing.user
                try await accounts.markVerified(userID: user.id, on: connection)
            } else {
                guard let name, let newHash else { throw AuthStoreError.passwordRequired }
                user = try await accounts.createUser(
                    email: email, name: name, passwordHash: newHash, emailVerified: true, tenantID: token.tenantID, on: connection)
            }
            guard let tenant = try await TenantStore(database: database).get(token.tenantID, on: connection) else { throw AuthStoreError.notFound }
            try await requireRoom(tenant, on: connection)
            do {
                try await accounts.addMember(user, tenantID: token.tenantID, role: role, on: connection)
            } catch  where error.sqlState == SQLState.uniqueViolation {
                throw AuthStoreError.callerAlreadyMember
            }
            return .joined(user, Membership(tenant: tenant.record, role: role.rawValue))
        }
    }

    /// The plan's member quota.
    func requireRoom(_ tenant: TenantDetails, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            "SELECT count(*)::int FROM auth.memberships WHERE tenant_id = \(tenant.id)", logger: database.logger)
        for try await count in rows.decode(Int.self) where count >= tenant.limits.maxMembers {
            throw AuthStoreError.memberLimit(plan: "\(tenant.plan)", limit: tenant.limits.maxMembers)
        }
    }

    struct Pending: Sendable {
        var email: String
    }

    func pendingInvitation(_ token: TenantToken) async throws -> Pending? {
        try await database.withTenant(token.tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT email FROM auth.invitations
                WHERE token_hash = \(ByteBuffer(bytes: token.hash)) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
                """, logger: database.logger)
            for try await email in rows.decode(String.self) { return Pending(email: email) }
            return nil
        }
    }
}
