import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import Jobs
import NIOCore
import Persistence
import PostgresNIO

struct PushJob: Codable, Sendable {
    var deliveryId: UUID
}

/// Sends a notification to every browser the user subscribed, encrypted for each
/// (RFC 8291) and authorised with the service's VAPID key (RFC 8292). A push service
/// answering 404 or 410 has forgotten the subscription: it is removed. 429 and 5xx are
/// retried by the job queue.
struct PushDelivery: Sendable {
    let database: Database
    let store: PushStore
    let outbound: PinnedOutbound
    /// The VAPID `sub`: how a push service can reach the operator.
    let contact: String

    static func kind(tenantRate: (@Sendable (UUID) -> Double?)? = nil) -> JobKind<PushJob> {
        JobKind("notifications.send-push", queue: "push", maxAttempts: 8, timeout: .seconds(60), tenantRate: tenantRate)
    }

    struct Payload: Codable, Sendable {
        var id: UUID
        var title: String
        var body: String
        var category: String
        var data: [String: String]
    }

    enum Failure: JobReportable {
        case pushService(Int)
        var description: String {
            switch self { case .pushService(let status): "the push service answered \(status)" }
        }
    }

    /// What one run sends: the notification, and the user's subscriptions that an earlier
    /// attempt has not reached.
    private struct Pending: Sendable {
        var payload: Payload
        var user: UUID
        var idempotencyKey: String
        var templateKey: String
        var reachedBefore: Int
        var targets: [PushStore.Target]
    }

    func run(_ job: PushJob, context: JobContext) async throws {
        let tenant = context.tenantID
        let loaded: Pending? = try await database.withTenant(tenant) { connection in
            let rows = try await connection.query(
                """
                SELECT n.id, n.title, n.body, n.category, n.data::text, n.user_id, n.idempotency_key, n.template_key, d.pushed_to
                FROM notifications.deliveries d JOIN notifications.notifications n ON n.id = d.notification_id
                WHERE d.id = \(job.deliveryId) AND d.state IN ('queued', 'deferred')
                """, logger: database.logger)
            for try await (id, title, body, category, data, user, key, template, pushedTo) in rows.decode(
                (UUID, String, String, String, String, UUID, String, String, [UUID]).self)
            {
                let values = (try? JSONDecoder().decode([String: String].self, from: Data(data.utf8))) ?? [:]
                let reached = Set(pushedTo)
                return Pending(
                    payload: Payload(id: id, title: title, body: body, category: category, data: values), user: user, idempotencyKey: key,
                    templateKey: template, reachedBefore: reached.count,
                    targets: try await store.targets(user: user, on: connection).filter { !reached.contains($0.id) })
            }
            return nil
        }
        guard let pending = loaded else { return }
        let vapid = try await store.vapidKey()
        let plaintext = try JSONEncoder().encode(pending.payload)
        var reached: [UUID] = []
        var lastError: String?
        do {
            for target in pending.targets {
                do {
                    guard let url = URL(string: target.endpoint) else { continue }
                    var request = HTTPClientRequest(url: target.endpoint)
                    request.method = .POST
                    request.headers.add(name: "Content-Encoding", value: "aes128gcm")
                    request.headers.add(name: "Content-Type", value: "application/octet-stream")
                    request.headers.add(name: "TTL", value: "86400")
                    request.headers.add(name: "Urgency", value: "normal")
                    // RFC 8030 §5.4: a copy sent again (after an attempt whose answer was lost)
                    // replaces the one the push service still holds instead of adding a second.
                    request.headers.add(name: "Topic", value: Self.topic(pending.payload.id))
                    request.headers.add(name: "Authorization", value: try WebPush.authorization(endpoint: url, key: vapid, subject: contact))
                    request.body = .bytes(ByteBuffer(data: try WebPush.encrypt(plaintext, for: target.keys)))
                    let response = try await outbound.execute(request, timeout: .seconds(15))
                    _ = try? await response.body.collect(upTo: 64 << 10)
                    switch response.status.code {
                    case 200..<300: reached.append(target.id)
                    case 404, 410: _ = try await store.delete(target.id, user: nil, tenant: tenant)
                    case 429, 500..<600: throw Failure.pushService(Int(response.status.code))
                    default: lastError = Failure.pushService(Int(response.status.code)).description
                    }
                } catch let refusal as DestinationPolicy.Refusal {
                    lastError = "refused: the endpoint \(refusal)"
                }
            }
        } catch {
            // Retried by the job queue: the browsers reached so far are not sent it again.
            if !reached.isEmpty {
                _ = try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        "UPDATE notifications.deliveries SET pushed_to = pushed_to || \(reached) WHERE id = \(job.deliveryId)", logger: database.logger)
                }
            }
            throw error
        }
        let state = reached.count + pending.reachedBefore > 0 || pending.targets.isEmpty ? "sent" : "failed"
        let outcome = NotificationDelivery(
            tenantId: tenant, notificationId: pending.payload.id, deliveryId: job.deliveryId, idempotencyKey: pending.idempotencyKey, channel: "push",
            state: state, category: pending.payload.category, templateKey: pending.templateKey, recipientUserId: pending.user,
            error: state == "failed" ? lastError : nil, occurredAt: Date())
        try await DeliveryStore(database: database).finish([outcome], state: state, tenant: tenant)
    }

    /// The notification's id in URL-safe base64: 22 characters, within the 32 a Topic may have.
    static func topic(_ notification: UUID) -> String {
        withUnsafeBytes(of: notification.uuid) { Data($0) }.base64URL
    }
}
