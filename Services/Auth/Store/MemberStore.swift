import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

struct MemberRecord: Codable, Sendable {
    var userId: UUID
    var email: String
    var name: String
    var role: String
    var mfaEnabled: Bool
    var joinedAt: Date
}

/// SQL for a tenant's members, with the ownership rules: only owners grant or take away
/// `owner`, and the last owner cannot leave or be demoted.
struct MemberStore: Sendable {
    let database: Database
    let sessions: SessionStore
    var outbox: AuthOutbox { AuthOutbox(database: database) }

    func list(tenantID: UUID, page: PageRequest) async throws -> Page<MemberRecord> {
        let after = try page.decodedCursor(KeysetPosition.self)
        return try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT u.id, u.email, u.name, m.role, u.mfa_enabled, m.created_at
                FROM auth.memberships m JOIN auth.users u ON u.id = m.user_id
                WHERE m.tenant_id = \(tenantID)
                  AND (\(after?.at)::timestamptz IS NULL OR (m.created_at, m.user_id) > (\(after?.at), \(after?.id)))
                ORDER BY m.created_at, m.user_id LIMIT \(page.limit + 1)
                """, logger: database.logger)
            var items: [MemberRecord] = []
            for try await (id, email, name, role, mfa, joined) in rows.decode((UUID, String, String, String, Bool, Date).self) {
                items.append(MemberRecord(userId: id, email: email, name: name, role: role, mfaEnabled: mfa, joinedAt: joined))
            }
            return Page(fetched: items, limit: page.limit) { KeysetPosition(at: $0.joinedAt, id: $0.userId) }
        }
    }

    enum Change: Sendable {
        case role(Role)
        case removal
    }

    /// Changes a role or removes a member. Nil when the user is not a member of the tenant.
    func apply(_ change: Change, to userID: UUID, tenantID: UUID, actorRoles: [String]) async throws -> MemberRecord? {
        try await database.withTenant(tenantID) { connection in
            // One membership change per tenant at a time, so two admins cannot each demote
            // one of the last two owners.
            try await connection.query("SELECT 1 FROM auth.tenants WHERE id = \(tenantID) FOR UPDATE", logger: database.logger)
            let rows = try await connection.query(
                """
                SELECT u.id, u.email, u.name, m.role, u.mfa_enabled, m.created_at, m.version
                FROM auth.memberships m JOIN auth.users u ON u.id = m.user_id
                WHERE m.tenant_id = \(tenantID) AND m.user_id = \(userID)
                """, logger: database.logger)
            var found: (MemberRecord, Int64)?
            for try await (id, email, name, role, mfa, joined, version) in rows.decode((UUID, String, String, String, Bool, Date, Int64).self) {
                found = (MemberRecord(userId: id, email: email, name: name, role: role, mfaEnabled: mfa, joinedAt: joined), version)
            }
            guard var (member, version) = found else { return nil }
            let newRole: String? =
                switch change {
                case .role(let role): role.rawValue
                case .removal: nil
                }
            let touchesOwner = member.role == Role.owner.rawValue || newRole == Role.owner.rawValue
            if touchesOwner && !actorRoles.contains(Role.owner.rawValue) {
                throw AuthStoreError.ownerRoleByOwnersOnly
            }
            if member.role == Role.owner.rawValue && newRole != Role.owner.rawValue {
                let owners = try await connection.query(
                    "SELECT count(*)::int FROM auth.memberships WHERE tenant_id = \(tenantID) AND role = 'owner'", logger: database.logger)
                for try await count in owners.decode(Int.self) where count <= 1 {
                    throw AuthStoreError.lastOwner
                }
            }
            let user = UserRecord(id: member.userId, email: member.email, name: member.name, emailVerified: true)
            version = max(version + 1, MembershipVersion.now())
            if let newRole {
                try await connection.query(
                    "UPDATE auth.memberships SET role = \(newRole), version = \(version) WHERE tenant_id = \(tenantID) AND user_id = \(userID)",
                    logger: database.logger)
                member.role = newRole
                try await outbox.membership(
                    tenantID: tenantID, user: user, role: newRole, version: Int(version), type: MembershipEvent.roleChanged, on: connection)
            } else {
                try await connection.query(
                    "DELETE FROM auth.memberships WHERE tenant_id = \(tenantID) AND user_id = \(userID)", logger: database.logger)
                try await sessions.revokeAll(userID: userID, on: connection)
                try await outbox.membership(
                    tenantID: tenantID, user: user, role: member.role, version: Int(version), type: MembershipEvent.removed, on: connection)
            }
            return member
        }
    }
}

/// Membership versions are milliseconds since the epoch (at least one more than the last).
enum MembershipVersion {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
