import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

struct TenantRecord: Codable, Sendable, Equatable {
    var id: UUID
    var name: String
    var slug: String
    var status: String
    var plan: String
}

struct UserRecord: Codable, Sendable, Equatable {
    var id: UUID
    var email: String
    var name: String
    var emailVerified: Bool
    /// Not part of the user's JSON: whether the user may act as a platform operator.
    var platformOperator = false

    enum CodingKeys: String, CodingKey {
        case id, email, name, emailVerified
    }
}

struct Membership: Sendable {
    var tenant: TenantRecord
    var role: String
}

enum AccountError: Error {
    case emailTaken
}

/// SQL for tenants, users and memberships.
struct AccountStore: Sendable {
    let database: Database
    var outbox: AuthOutbox { AuthOutbox(database: database) }

    /// Creates the tenant, the user and the owner membership, their events and the
    /// verification email, in one transaction.
    func signUp(
        email: String, name: String, passwordHash: String?, tenantName: String, slug: String, emailVerified: Bool = false
    )
        async throws -> (UserRecord, TenantRecord)
    {
        let tenantID = UUID.v7()
        return try await database.withTenant(tenantID) { connection in
            let chosenSlug = try await insertTenant(tenantID, name: tenantName, slug: slug, on: connection)
            let tenant = TenantRecord(id: tenantID, name: tenantName, slug: chosenSlug, status: "active", plan: Plan.free.rawValue)
            try await outbox.tenant(tenant, version: 1, type: TenantEvent.created, on: connection)
            let user = try await createUser(
                email: email, name: name, passwordHash: passwordHash, emailVerified: emailVerified, tenantID: tenantID, on: connection)
            try await addMember(user, tenantID: tenantID, role: .owner, on: connection)
            return (user, tenant)
        }
    }

    /// Inserts a user and announces it; an unverified address gets a verification email.
    func createUser(
        email: String, name: String, passwordHash: String?, emailVerified: Bool, tenantID: UUID, on connection: PostgresConnection
    ) async throws -> UserRecord {
        let user = UserRecord(id: UUID.v7(), email: email.trimmingCharacters(in: .whitespacesAndNewlines), name: name, emailVerified: emailVerified)
        do {
            try await connection.query(
                """
                INSERT INTO auth.users (id, email, email_normalized, name, password_hash, email_verified)
                VALUES (\(user.id), \(user.email), \(AccountRules.normalizedEmail(email)), \(name), \(passwordHash), \(emailVerified))
                """, logger: database.logger)
        } catch  where error.sqlState == SQLState.uniqueViolation {
            throw AccountError.emailTaken
        }
        try await outbox.userRegistered(user, tenantID: tenantID, on: connection)
        if !emailVerified {
            let token = try await EmailTokenStore(database: database).issue(userID: user.id, purpose: .verifyEmail, on: connection)
            try await outbox.email(
                "auth.verify_email", to: .init(userId: user.id, email: user.email), tenantID: tenantID,
                idempotencyKey: "auth.verify_email/\(OpaqueToken.hash(token.text).hexDigest())",
                data: ["name": name, "token": token.text], on: connection)
        }
        return user
    }

    /// Adds the membership (the caller's transaction runs under `tenantID`) and announces it.
    func addMember(_ user: UserRecord, tenantID: UUID, role: Role, on connection: PostgresConnection) async throws {
        let version = MembershipVersion.now()
        try await connection.query(
            "INSERT INTO auth.memberships (tenant_id, user_id, role, version) VALUES (\(tenantID), \(user.id), \(role.rawValue), \(version))",
            logger: database.logger)
        try await outbox.membership(
            tenantID: tenantID, user: user, role: role.rawValue, version: Int(version), type: MembershipEvent.added, on: connection)
    }

    /// Inserts the tenant under `slug`, or under `slug-xxxx` when that is taken.
    func insertTenant(
        _ id: UUID, name: String, slug: String, plan: Plan = .free, exactSlug: Bool = false, on connection: PostgresConnection
    )
        async throws -> String
    {
        for attempt in 0..<(exactSlug ? 1 : 6) {
            let candidate = attempt == 0 ? slug : "\(slug)-\(String(UInt32.random(in: 0...0xFFFFF), radix: 36))"
            let rows = try await connection.query(
                """
                INSERT INTO auth.tenants (id, name, slug, plan) VALUES (\(id), \(name), \(candidate), \(plan.rawValue))
                ON CONFLICT (slug) DO NOTHING RETURNING slug
                """, logger: database.logger)
            for try await inserted in rows.decode(String.self) { return inserted }
        }
        throw exactSlug ? AuthStoreError.slugTaken(slug) : AuthStoreError.noFreeSlug
    }

    struct Credentials: Sendable {
        var user: UserRecord
        var passwordHash: String?
        var mfaEnabled: Bool
    }

    func credentials(email: String) async throws -> Credentials? {
        try await credentials(where: "email_normalized", AccountRules.normalizedEmail(email))
    }

    func credentials(userID: UUID) async throws -> Credentials? {
        try await credentials(where: "id", userID.uuidString.lowercased())
    }

    private func credentials(where column: String, _ value: String) async throws -> Credentials? {
        let rows = try await database.query(
            """
            SELECT id, email, name, email_verified, platform_operator, password_hash, mfa_enabled
            FROM auth.users WHERE \(unescaped: column)::text = \(value)
            """, logger: database.logger)
        for try await (id, email, name, verified, isOperator, hash, mfa) in rows.decode((UUID, String, String, Bool, Bool, String?, Bool).self) {
            return Credentials(
                user: UserRecord(id: id, email: email, name: name, emailVerified: verified, platformOperator: isOperator), passwordHash: hash,
                mfaEnabled: mfa)
        }
        return nil
    }

    func setPassword(userID: UUID, hash: String, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE auth.users SET password_hash = \(hash) WHERE id = \(userID)", logger: database.logger)
    }

    func markVerified(userID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE auth.users SET email_verified = true WHERE id = \(userID)", logger: database.logger)
    }

    /// The user's memberships in every tenant (the `own_memberships` policy allows it).
    func memberships(of userID: UUID) async throws -> [Membership] {
        try await database.withTransaction { try await memberships(of: userID, on: $0) }
    }

    func memberships(of userID: UUID, on connection: PostgresConnection) async throws -> [Membership] {
        try await connection.query("SELECT set_config('app.user_id', \(userID.uuidString), true)", logger: database.logger)
        let rows = try await connection.query(
            """
            SELECT t.id, t.name, t.slug, t.status, t.plan, m.role
            FROM auth.memberships m JOIN auth.tenants t ON t.id = m.tenant_id
            WHERE m.user_id = \(userID) ORDER BY t.slug
            """, logger: database.logger)
        var result: [Membership] = []
        for try await (id, name, slug, status, plan, role) in rows.decode((UUID, String, String, String, String, String).self) {
            result.append(Membership(tenant: TenantRecord(id: id, name: name, slug: slug, status: status, plan: plan), role: role))
        }
        return result
    }

    /// The user, tenant and role for a verified identity, or nil if the membership is gone.
    func profile(userID: UUID, tenantID: UUID) async throws -> (UserRecord, Membership)? {
        try await database.withTenant(tenantID) { try await profile(userID: userID, tenantID: tenantID, on: $0) }
    }

    /// The same, inside the caller's transaction (which runs under `tenantID`).
    func profile(userID: UUID, tenantID: UUID, on connection: PostgresConnection) async throws -> (UserRecord, Membership)? {
        let rows = try await connection.query(
            """
            SELECT u.id, u.email, u.name, u.email_verified, u.platform_operator, t.id, t.name, t.slug, t.status, t.plan, m.role
            FROM auth.memberships m
            JOIN auth.users u ON u.id = m.user_id
            JOIN auth.tenants t ON t.id = m.tenant_id
            WHERE m.user_id = \(userID) AND m.tenant_id = \(tenantID)
            """, logger: database.logger)
        for try await (uid, email, name, verified, isOperator, tid, tname, slug, status, plan, role) in rows.decode(
            (UUID, String, String, Bool, Bool, UUID, String, String, String, String, String).self)
        {
            return (
                UserRecord(id: uid, email: email, name: name, emailVerified: verified, platformOperator: isOperator),
                Membership(tenant: TenantRecord(id: tid, name: tname, slug: slug, status: status, plan: plan), role: role)
            )
        }
        return nil
    }
}

extension ByteBuffer {
    func hexDigest() -> String {
        readableBytesView.map { String(format: "%02x", $0) }.joined()
    }
}
