import Foundation
import Jobs
import Persistence
import PostgresNIO

struct SenderArguments: Codable, Sendable {
    var senderId: UUID
}

/// SQL for the addresses a tenant sends from.
struct SenderStore: Sendable {
    let database: Database

    struct Sender: Codable, Sendable, Equatable {
        var id: UUID
        var email: String
        var verified: Bool
        var verifiedAt: Date?
        var createdAt: Date
    }

    static func senders(_ rows: PostgresRowSequence) async throws -> [Sender] {
        var found: [Sender] = []
        for try await (id, email, verified, created) in rows.decode((UUID, String, Date?, Date).self) {
            found.append(Sender(id: id, email: email, verified: verified != nil, verifiedAt: verified, createdAt: created))
        }
        return found
    }

    /// Adds the address (or finds it) and, unless it is verified, emails it a link to prove it.
    func add(_ email: String, tenant: UUID) async throws -> (Sender, created: Bool) {
        try await database.withTenant(tenant) { connection in
            if let existing = try await Self.senders(
                try await connection.query(
                    "SELECT id, email, verified_at, created_at FROM campaigns.senders WHERE email = \(email)", logger: database.logger)
            ).first {
                if !existing.verified { try await ask(existing.id, tenant: tenant, on: connection) }
                return (existing, false)
            }
            let rows = try await connection.query(
                """
                INSERT INTO campaigns.senders (id, tenant_id, email) VALUES (\(UUID.v7()), \(tenant), \(email))
                RETURNING id, email, verified_at, created_at
                """, logger: database.logger)
            guard let sender = try await Self.senders(rows).first else { throw CampaignsError.notFound }
            try await ask(sender.id, tenant: tenant, on: connection)
            return (sender, true)
        }
    }

    private func ask(_ id: UUID, tenant: UUID, on connection: PostgresConnection) async throws {
        try await JobQueue(schema: "campaigns").enqueue(CampaignJobs.verifySender, SenderArguments(senderId: id), tenant: tenant, on: connection)
    }

    func list(tenant: UUID) async throws -> [Sender] {
        try await database.withTenant(tenant) { connection in
            try await Self.senders(
                try await connection.query("SELECT id, email, verified_at, created_at FROM campaigns.senders ORDER BY email", logger: database.logger)
            )
        }
    }

    func delete(_ id: UUID, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await _ in try await connection.query("DELETE FROM campaigns.senders WHERE id = \(id) RETURNING 1", logger: database.logger) {
                return
            }
            throw CampaignsError.notFound
        }
    }

    /// The link in the verification email was followed.
    func verify(_ link: SignedLink) async throws -> Bool {
        try await database.withTenant(link.tenant) { connection in
            for try await _ in try await connection.query(
                "UPDATE campaigns.senders SET verified_at = COALESCE(verified_at, now()) WHERE id = \(link.campaign) RETURNING 1",
                logger: database.logger)
            {
                return true
            }
            return false
        }
    }

    /// The address a verification email goes to, while it still waits for proof.
    func unverified(_ id: UUID, tenant: UUID) async throws -> String? {
        try await database.withTenant(tenant) { connection in
            for try await email in try await connection.query(
                "SELECT email FROM campaigns.senders WHERE id = \(id) AND verified_at IS NULL", logger: database.logger
            ).decode(String.self) {
                return email
            }
            return nil
        }
    }

    /// Whether the tenant proved the address.
    static func verified(_ email: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await _ in try await connection.query(
            "SELECT 1 FROM campaigns.senders WHERE email = \(email) AND verified_at IS NOT NULL", logger: logger)
        {
            return true
        }
        return false
    }
}
