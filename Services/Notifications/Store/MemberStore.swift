import Contracts
import Foundation
import Persistence
import PostgresNIO

/// A person of a tenant, as notifications needs them.
struct Member: Sendable, Equatable {
    var userID: UUID
    var email: String
    var name: String
    var role: String
}

/// The tenant's members, kept from auth.membership.v1 (newer versions win).
struct MemberStore: Sendable {
    let database: Database

    func apply(_ event: MembershipEvent, removed: Bool) async throws {
        _ = try await database.withTenant(event.tenantId) { connection in
            try await connection.query(
                """
                INSERT INTO notifications.members (tenant_id, user_id, email, name, role, active, version)
                VALUES (\(event.tenantId), \(event.userId), \(event.email), \(event.name), \(event.role), \(!removed), \(Int64(event.version)))
                ON CONFLICT (tenant_id, user_id) DO UPDATE
                  SET email = excluded.email, name = excluded.name, role = excluded.role, active = excluded.active, version = excluded.version
                  WHERE members.version < excluded.version
                """, logger: database.logger)
        }
    }

    func member(_ user: UUID, on connection: PostgresConnection) async throws -> Member? {
        try await members([user], on: connection)[user]
    }

    /// The active members among `users`, by user id.
    func members(_ users: [UUID], on connection: PostgresConnection) async throws -> [UUID: Member] {
        guard !users.isEmpty else { return [:] }
        let rows = try await connection.query(
            "SELECT user_id, email, name, role FROM notifications.members WHERE user_id = ANY(\(users)) AND active", logger: database.logger)
        var members: [UUID: Member] = [:]
        for try await (id, email, name, role) in rows.decode((UUID, String, String, String).self) {
            members[id] = Member(userID: id, email: email, name: name, role: role)
        }
        return members
    }

    /// Owners and admins: who hears about the tenant's own configuration failing.
    func admins(on connection: PostgresConnection) async throws -> [Member] {
        let rows = try await connection.query(
            "SELECT user_id, email, name, role FROM notifications.members WHERE active AND role IN ('owner', 'admin') ORDER BY user_id",
            logger: database.logger)
        var members: [Member] = []
        for try await (id, email, name, role) in rows.decode((UUID, String, String, String).self) {
            members.append(Member(userID: id, email: email, name: name, role: role))
        }
        return members
    }
}
