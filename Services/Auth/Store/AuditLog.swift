import Foundation
import Persistence
import PostgresNIO
import ServiceKit

/// One line of the audit log: who did what to which target, from where, and how it ended.
struct AuditEntry: Sendable {
    enum Result: String, Sendable, Codable {
        case success, failure, denied
    }

    var tenantID: UUID?
    var actor: String?
    var ip: String?
    var action: String
    var target: String?
    var result: Result = .success
    var details: [String: String] = [:]
}

/// Who is acting, as the audit log records it.
struct Actor: Sendable {
    var subject: String?
    var ip: String?

    func entry(
        _ action: String, tenant: UUID?, target: String? = nil, result: AuditEntry.Result = .success, details: [String: String] = [:]
    ) -> AuditEntry {
        AuditEntry(tenantID: tenant, actor: subject, ip: ip, action: action, target: target, result: result, details: details)
    }
}

struct AuditRecord: Codable, Sendable {
    var id: UUID
    var actor: String?
    var ip: String?
    var action: String
    var target: String?
    var result: String
    var details: [String: String]
    var at: Date
}

/// The append-only audit log (a trigger refuses UPDATE and DELETE).
struct AuditLog: Sendable {
    let database: Database

    /// Records inside the caller's transaction, so the entry exists exactly when the change does.
    func record(_ entry: AuditEntry, on connection: PostgresConnection) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO auth.audit_log (id, tenant_id, actor, actor_ip, action, target, result, details)
            VALUES (\(UUID.v7()), \(entry.tenantID), \(entry.actor), \(entry.ip), \(entry.action), \(entry.target),
                    \(entry.result.rawValue), \(details)::jsonb)
            """, logger: database.logger)
    }

    /// Records on its own, for events with no other change (a failed login).
    func record(_ entry: AuditEntry) async throws {
        if let tenant = entry.tenantID {
            try await database.withTenant(tenant) { try await record(entry, on: $0) }
        } else {
            try await database.withTransaction { try await record(entry, on: $0) }
        }
    }

    struct Filter: Sendable {
        var action: String?
        var since: Date?
        var until: Date?
    }

    /// Newest first; `action` matches exactly or as a prefix ending in `.` (e.g. `member.`).
    func list(tenantID: UUID, filter: Filter, page: PageRequest) async throws -> Page<AuditRecord> {
        let after = try page.decodedCursor(KeysetPosition.self)
        let prefix = filter.action.map { $0.hasSuffix(".") ? $0 + "%" : $0 }
        return try await database.withTenant(tenantID) { connection in
            let rows = try await connection.query(
                """
                SELECT id, actor, actor_ip, action, target, result, details::text, created_at FROM auth.audit_log
                WHERE (\(prefix)::text IS NULL OR action LIKE \(prefix))
                  AND (\(filter.since)::timestamptz IS NULL OR created_at >= \(filter.since))
                  AND (\(filter.until)::timestamptz IS NULL OR created_at < \(filter.until))
                  AND (\(after?.at)::timestamptz IS NULL OR (created_at, id) < (\(after?.at), \(after?.id)))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
                """, logger: database.logger)
            var items: [AuditRecord] = []
            for try await (id, actor, ip, action, target, result, details, at) in rows.decode(
                (UUID, String?, String?, String, String?, String, String, Date).self)
            {
                let decoded = (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:]
                items.append(AuditRecord(id: id, actor: actor, ip: ip, action: action, target: target, result: result, details: decoded, at: at))
            }
            return Page(fetched: items, limit: page.limit) { KeysetPosition(at: $0.at, id: $0.id) }
        }
    }
}
