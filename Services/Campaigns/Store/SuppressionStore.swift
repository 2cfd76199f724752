import Contracts
import Foundation
import Persistence
import PostgresNIO

/// SQL for the addresses campaigns will not mail, and the reports that put them there.
struct SuppressionStore: Sendable {
    let database: Database

    struct Suppression: Codable, Sendable, Equatable {
        var email: String
        var reason: String
        var detail: String?
        var createdAt: Date
    }

    /// Suppresses an address unless it is already; a new one is announced on
    /// `campaigns.suppression.v1`.
    static func add(
        _ email: String, reason: String, detail: String?, tenant: UUID, database: Database, on connection: PostgresConnection
    ) async throws -> Bool {
        for try await _ in try await connection.query(
            """
            INSERT INTO campaigns.suppressions (tenant_id, email, reason, detail) VALUES (\(tenant), \(email), \(reason), \(detail))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: database.logger)
        {
            let event = SuppressionChanged(tenantId: tenant, email: email, reason: reason, detail: detail, occurredAt: Date())
            try await database.outbox.append(
                try .make(event, type: SuppressionChanged.added, on: Topics.campaignsSuppression, source: CampaignStore.source, tenantID: tenant),
                on: connection)
            return true
        }
        return false
    }

    func add(_ email: String, reason: String, detail: String?, tenant: UUID) async throws -> Bool {
        try await database.withTenant(tenant) { connection in
            try await Self.add(email, reason: reason, detail: detail, tenant: tenant, database: database, on: connection)
        }
    }

    func remove(_ email: String, tenant: UUID) async throws {
        try await database.withTenant(tenant) { connection in
            for try await reason in try await connection.query(
                "DELETE FROM campaigns.suppressions WHERE email = \(email) RETURNING reason", logger: database.logger
            ).decode(String.self) {
                let event = SuppressionChanged(tenantId: tenant, email: email, reason: reason, detail: nil, occurredAt: Date())
                try await database.outbox.append(
                    try .make(
                        event, type: SuppressionChanged.removed, on: Topics.campaignsSuppression, source: CampaignStore.source, tenantID: tenant),
                    on: connection)
                return
            }
            throw CampaignsError.notFound
        }
    }

    func list(tenant: UUID, after cursor: String?, limit: Int) async throws -> [Suppression] {
        try await database.withTenant(tenant) { connection in
            var found: [Suppression] = []
            for try await (email, reason, detail, created) in try await connection.query(
                """
                SELECT email, reason, detail, created_at FROM campaigns.suppressions
                WHERE (\(cursor)::text IS NULL OR email > \(cursor)) ORDER BY email LIMIT \(limit)
                """, logger: database.logger
            ).decode((String, String, String?, Date).self) {
                found.append(Suppression(email: email, reason: reason, detail: detail, createdAt: created))
            }
            return found
        }
    }

    struct Applied: Codable, Sendable, Equatable {
        var hard = 0
        var soft = 0
        var complaints = 0
        /// Reports naming no address of this tenant's.
        var ignored = 0
    }

    /// Applies bounce and complaint reports: a hard bounce marks the campaign's send and
    /// suppresses the address; a complaint suppresses it and takes it off every list; a soft
    /// bounce is noted on the send.
    func apply(_ reports: [DeliveryReport], tenant: UUID) async throws -> Applied {
        try await database.withTenant(tenant) { connection in
            var applied = Applied()
            for report in reports {
                var email = report.recipient
                if email == nil, let subscriber = report.subscriber {
                    for try await found in try await connection.query(
                        "SELECT email FROM campaigns.subscribers WHERE id = \(subscriber)", logger: database.logger
                    ).decode(String.self) {
                        email = found
                    }
                }
                guard let email, !email.isEmpty else {
                    applied.ignored += 1
                    continue
                }
                let detail = report.status.map { "status \($0)" }
                if let campaign = report.campaign, let subscriber = report.subscriber {
                    try await connection.query(
                        """
                        UPDATE campaigns.campaign_sends SET state = CASE WHEN \(report.kind == .soft) THEN state ELSE 'bounced' END,
                          error = \(report.kind.rawValue + (detail.map { ": \($0)" } ?? ""))
                        WHERE campaign_id = \(campaign) AND subscriber_id = \(subscriber)
                        """, logger: database.logger)
                }
                switch report.kind {
                case .hard:
                    _ = try await Self.add(email, reason: "hard_bounce", detail: detail, tenant: tenant, database: database, on: connection)
                    applied.hard += 1
                case .complaint:
                    _ = try await Self.add(email, reason: "complaint", detail: nil, tenant: tenant, database: database, on: connection)
                    try await connection.query(
                        """
                        UPDATE campaigns.list_members m SET status = 'unsubscribed', updated_at = now()
                        FROM campaigns.subscribers s WHERE s.id = m.subscriber_id AND s.email = \(email)
                        """, logger: database.logger)
                    applied.complaints += 1
                case .soft:
                    applied.soft += 1
                }
            }
            return applied
        }
    }
}
