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

    /// Creates the tenant, the user and the owner membership, with their events, in one transaction.
    func signUp(email: String, name: String, passwordHash: String, tenantName: String, slug: String) async throws -> (UserRecord, TenantRecord) {
        let userID = UUID.v7()
        let tenantID = UUID.v7()
        let normalized = AccountRules.normalizedEmail(email)
        do {
            return try await database.withTenant(tenantID) { connection in
                let chosenSlug = try await insertTenant(tenantID, name: tenantName, slug: slug, on: connection)
                try await connection.query(
                    """
                    INSERT INTO auth.users (id, email, email_normalized, name, password_hash)
                    VALUES (\(userID), \(email.trimmingCharacters(in: .whitespacesAndNewlines)), \(normalized), \(name), \(passwordHash))
                    """, logger: database.logger)
                try await connection.query(
                    "INSERT INTO auth.memberships (tenant_id, user_id, role) VALUES (\(tenantID), \(userID), 'owner')",
                    logger: database.logger)
                let tenant = TenantRecord(id: tenantID, name: tenantName, slug: chosenSlug, status: "active", plan: "free")
                let user = UserRecord(id: userID, email: email.trimmingCharacters(in: .whitespacesAndNewlines), name: name, emailVerified: false)
                let now = Date()
                try await database.outbox.append(
                    try .make(
                        TenantEvent(tenantId: tenantID, name: tenantName, slug: chosenSlug, status: "active", plan: "free", version: 1, occurredAt: now),
                        type: TenantEvent.created, on: Topics.authTenant, source: "/services/auth", tenantID: tenantID),
                    on: connection)
                try await database.outbox.append(
                    try .make(
                        UserRegistered(userId: userID, tenantId: tenantID, email: normalized, name: name, registeredAt: now),
                        type: UserRegistered.type, on: Topics.authUser, source: "/services/auth", tenantID: tenantID),
                    on: connection)
                return (user, tenant)
            }
        } catch where error.sqlState == SQLState.uniqueViolation && error.sqlConstraint == "users_email_normalized_key" {
            throw AccountError.emailTaken
        }
    }

    /// Inserts the tenant under `slug`, or under `slug-xxxx` when that is taken.
    func insertTenant(_ id: UUID, name: String, slug: String, on connection: PostgresConnection) async throws -> String {
        for attempt in 0..<6 {
            let candidate = attempt == 0 ? slug : "\(slug)-\(String(UInt32.random(in: 0...0xFFFFF), radix: 36))"
            let rows = try await connection.query(
                "INSERT INTO auth.tenants (id, name, slug) VALUES (\(id), \(name), \(candidate)) ON CONFLICT (slug) DO NOTHING RETURNING slug",
                logger: database.logger)
            for try await inserted in rows.decode(String.self) { return inserted }
        }
        throw Problem.conflict("Could not find a free slug for this tenant name; choose another name.")
    }

    struct Credentials: Sendable {
        var user: UserRecord
        var passwordHash: String?
    }

    func credentials(email: String) async throws -> Credentials? {
        let rows = try await database.client.query(
            "SELECT id, email, name, email_verified, password_hash FROM auth.users WHERE email_normalized = \(AccountRules.normalizedEmail(email))",
            logger: database.logger)
        for try await (id, email, name, verified, hash) in rows.decode((UUID, String, String, Bool, String?).self) {
            return Credentials(user: UserRecord(id: id, email: email, name: name, emailVerified: verified), passwordHash: hash)
        }
        return nil
    }

    /// The user's memberships in every tenant (the `own_memberships` policy allows it).
    func memberships(of userID: UUID) async throws -> [Membership] {
        try await database.withTransaction { connection in
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
    }

    /// The user, tenant and role for a verified identity, or nil if the membership is gone.
    func profile(userID: UUID, tenantID: UUID) async throws -> (UserRecord, Membership)? {
        try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT u.id, u.email, u.name, u.email_verified, t.id, t.name, t.slug, t.status, t.plan, m.role
                FROM auth.memberships m
                JOIN auth.users u ON u.id = m.user_id
                JOIN auth.tenants t ON t.id = m.tenant_id
                WHERE m.user_id = \(userID) AND m.tenant_id = \(tenantID)
                """, logger: database.logger)
            for try await (uid, email, name, verified, tid, tname, slug, status, plan, role) in rows.decode(
                (UUID, String, String, Bool, UUID, String, String, String, String, String).self)
            {
                return (
                    UserRecord(id: uid, email: email, name: name, emailVerified: verified),
                    Membership(tenant: TenantRecord(id: tid, name: tname, slug: slug, status: status, plan: plan), role: role)
                )
            }
            return nil
        }
    }
}
