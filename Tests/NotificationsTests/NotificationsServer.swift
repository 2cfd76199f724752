import Contracts
import Foundation
import Jobs
import Mail
import Messaging
import Outbound
import Persistence
import TestSupport

@testable import Notifications

/// One notifications service for the suite, sending mail to the test SMTP server.
struct NotificationsServer {
    static let shared = NotificationsServer()
    static let appURL = "https://app.test"
    private let started = StartOnce<(String, TestIssuer)> {
        let issuer = try await TestIssuer.start()
        let server = try await TestServer.start { try notificationsHost(configuration(jwksURL: issuer.jwksURL)).application(onServerRunning: $0) }
        return (server.baseURL, issuer)
    }

    static func configuration(jwksURL: String) -> NotificationsConfiguration {
        NotificationsConfiguration(
            service: TestEnvironment.configuration("notifications", jwksURL: jwksURL),
            smtp: SMTPConfiguration(url: TestEnvironment.smtpURL, requireTLS: false, from: "Platform <no-reply@platform.test>"),
            appURL: appURL, webhooks: DestinationPolicy(requireHTTPS: false, allowLoopback: true), streamPoll: .milliseconds(100),
            emailRetries: EmailRetries(maxAttempts: 3, delay: { _ in .milliseconds(200) }),
            // Four attempts, 200 ms apart (a 429's Retry-After of 1 s is honoured instead).
            webhookSchedule: { $0 < 4 ? 0.2 : nil },
            // The receiver's /slow/ paths answer after 10 s.
            webhookTimeout: .seconds(1))
    }

    func get() async throws -> (url: String, issuer: TestIssuer) {
        let (url, issuer) = try await started.value()
        return (url, issuer)
    }
}

/// A store like the server's, writing through the test's own pool (its email jobs are
/// run by the server's worker).
func testStore(_ database: Database) -> NotificationStore {
    NotificationStore(
        database: database, members: MemberStore(database: database), preferences: PreferenceStore(database: database),
        templates: TemplateStore(database: database), sendEmail: EmailDelivery.kind(maxAttempts: 3, retryDelay: { _ in .milliseconds(200) }),
        sendDigest: DigestDelivery.kind(maxAttempts: 3, retryDelay: { _ in .milliseconds(200) }), sendPush: PushDelivery.kind(),
        push: PushStore(database: database), appURL: NotificationsServer.appURL)
}

/// Accepts requests as the intake consumer would, once the server's migrations ran.
func accept(_ requests: NotificationRequest...) async throws {
    _ = try await NotificationsServer.shared.get()
    try await withDatabase("notifications") { database in
        for request in requests { try await testStore(database).accept(request) }
    }
}

func addMember(tenant: UUID, user: UUID, email: String, name: String = "Ada Lovelace", role: String = "member") async throws {
    _ = try await NotificationsServer.shared.get()
    try await withDatabase("notifications") { database in
        let event = MembershipEvent(
            tenantId: tenant, userId: user, email: email, name: name, role: role, version: Int(Date().timeIntervalSince1970 * 1000),
            occurredAt: Date())
        try await MemberStore(database: database).apply(event, removed: false)
    }
}

func request(
    tenant: UUID, user: UUID? = nil, email: String? = nil, category: String = "tasks", template: String = "task-reminder",
    data: [String: String] = ["title": "Water the plants", "taskId": "0190f1d2-0000-7000-8000-000000000000"], channels: [String] = [],
    priority: NotificationRequest.Priority = .normal, key: String = UUID().uuidString
) -> NotificationRequest {
    NotificationRequest(
        idempotencyKey: key, tenantId: tenant, recipient: .init(userId: user, email: email), category: category, templateKey: template, data: data,
        channels: channels, priority: priority, requestedAt: Date())
}

func call(
    _ method: String, _ path: String, tenant: UUID, user: UUID = .v7(), roles: [String] = ["member"], json: Any? = nil,
    headers: [String: String] = [:]
)
    async throws -> HTTPAnswer
{
    let (url, issuer) = try await NotificationsServer.shared.get()
    return try await TestHTTP.send(
        method, "\(url)\(path)", json: json, token: try await issuer.token(tenant: tenant, subject: user, roles: roles), headers: headers)
}

func inboxTitles(_ answer: HTTPAnswer) -> [String] {
    (answer.json["items"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
}

/// The delivery rows of a notification's email, as (state, error).
func emailDelivery(tenant: UUID, key: String) async throws -> (String, String?)? {
    try await withDatabase("notifications") { database in
        try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT d.state, d.last_error FROM notifications.deliveries d JOIN notifications.notifications n ON n.id = d.notification_id
                WHERE n.idempotency_key = \(key)
                """, logger: database.logger)
            for try await (state, error) in rows.decode((String, String?).self) { return (state, error) }
            return nil
        }
    }
}
