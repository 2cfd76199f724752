import Contracts
import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// Creates the first platform operator at start-up: a verified user, owner of the
/// `platform` tenant, flagged as operator. Nothing happens when the user exists.
struct OperatorBootstrap: Sendable {
    let accounts: AccountStore
    let passwords: PasswordHasher

    func ensure(email: String, password: String) async throws {
        let database = accounts.database
        if let existing = try await accounts.credentials(email: email) {
            if !existing.user.platformOperator {
                database.logger.warning("PLATFORM_OPERATOR_EMAIL names a user who is not an operator; left unchanged")
            }
            return
        }
        let hash = try await passwords.hash(password)
        try await database.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('auth.operator_bootstrap'))", logger: database.logger)
            let tenantID = try await platformTenant(on: connection)
            try await connection.query("SELECT set_config('app.tenant_id', \(tenantID.uuidString.lowercased()), true)", logger: database.logger)
            let rows = try await connection.query(
                "SELECT 1 FROM auth.users WHERE email_normalized = \(AccountRules.normalizedEmail(email))", logger: database.logger)
            for try await _ in rows { return }
            let user = try await accounts.createUser(
                email: email, name: "Platform operator", passwordHash: hash, emailVerified: true, tenantID: tenantID, on: connection)
            try await connection.query("UPDATE auth.users SET platform_operator = true WHERE id = \(user.id)", logger: database.logger)
            try await accounts.addMember(user, tenantID: tenantID, role: .owner, on: connection)
            database.logger.info("created the first platform operator", metadata: ["email": "\(email)"])
        }
    }

    func platformTenant(on connection: PostgresConnection) async throws -> UUID {
        let rows = try await connection.query(
            "SELECT id FROM auth.tenants WHERE slug = \(SignIn.platformTenantSlug)", logger: accounts.database.logger)
        for try await id in rows.decode(UUID.self) { return id }
        let id = UUID.v7()
        try await connection.query("SELECT set_config('app.tenant_id', \(id.uuidString.lowercased()), true)", logger: accounts.database.logger)
        _ = try await accounts.insertTenant(id, name: "Platform", slug: SignIn.platformTenantSlug, plan: .enterprise, exactSlug: true, on: connection)
        let tenant = TenantRecord(id: id, name: "Platform", slug: SignIn.platformTenantSlug, status: "active", plan: Plan.enterprise.rawValue)
        try await accounts.outbox.tenant(tenant, version: 1, type: TenantEvent.created, on: connection)
        return id
    }
}
