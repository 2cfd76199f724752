import Contracts
import Foundation
import Persistence
import PostgresNIO

/// Auth's events, appended to the outbox inside the transaction that made the change.
struct AuthOutbox: Sendable {
    static let source = "/services/auth"
    let database: Database

    func tenant(_ tenant: TenantRecord, version: Int, type: String, on connection: PostgresConnection) async throws {
        let payload = TenantEvent(
            tenantId: tenant.id, name: tenant.name, slug: tenant.slug, status: tenant.status, plan: tenant.plan, version: version,
            occurredAt: Date())
        try await database.outbox.append(
            try .make(payload, type: type, on: Topics.authTenant, source: Self.source, tenantID: tenant.id), on: connection)
    }

    func userRegistered(_ user: UserRecord, tenantID: UUID, on connection: PostgresConnection) async throws {
        let payload = UserRegistered(userId: user.id, tenantId: tenantID, email: user.email, name: user.name, registeredAt: Date())
        try await database.outbox.append(
            try .make(payload, type: UserRegistered.type, on: Topics.authUser, source: Self.source, tenantID: tenantID), on: connection)
    }

    func membership(tenantID: UUID, user: UserRecord, role: String, version: Int, type: String, on connection: PostgresConnection) async throws {
        let payload = MembershipEvent(
            tenantId: tenantID, userId: user.id, email: user.email, name: user.name, role: role, version: version, occurredAt: Date())
        try await database.outbox.append(
            try .make(payload, type: type, on: Topics.authMembership, source: Self.source, tenantID: tenantID), on: connection)
    }

    /// Asks the notifications service to send a transactional email (`account` or
    /// `security` category), keyed so a retried transaction cannot send twice.
    func email(
        _ template: String, to recipient: NotificationRequest.Recipient, tenantID: UUID, idempotencyKey: String,
        category: String = "account", data: [String: String], on connection: PostgresConnection
    ) async throws {
        let payload = NotificationRequest(
            idempotencyKey: idempotencyKey, tenantId: tenantID, recipient: recipient, category: category, templateKey: template,
            data: data, channels: ["email"], priority: .urgent, requestedAt: Date())
        // The data holds a one-time token (verify, reset, invite): gone from the outbox once sent.
        try await database.outbox.append(
            try .make(payload, type: NotificationRequest.type, on: Topics.notificationsRequest, source: Self.source, tenantID: tenantID),
            secret: true, on: connection)
    }
}
