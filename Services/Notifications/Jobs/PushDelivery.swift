import AsyncHTTPClient
import Contracts
import Crypto
import Foundation
import Jobs
import NIOCore
import Outbound
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
            switch self {
            case .pushService(let status): "the push service answered \(status)"
            }
        }
    }

    func run(_ job: PushJob, context: JobContext) async throws {
        let tenant = context.tenantID
        let loaded = try await PendingDeliveries(database: database).push(job.deliveryId, targets: store, tenant: tenant)
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
                try await PendingDeliveries(database: database).pushed(to: reached, delivery: job.deliveryId, tenant: tenant)
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
