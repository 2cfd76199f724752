import AsyncHTTPClient
import Contracts
import Foundation
import Jobs
import NIOCore
import NIOHTTP1
import Outbound

/// Delivers one webhook message to one endpoint per job run, signed per Standard Webhooks
/// with the same `webhook-id` on every attempt. The retry schedule is the sender's own (a
/// new job at the next time), so `Retry-After` can be honoured: the job queue's retries
/// only cover crashes and database errors.
struct WebhookSender: Sendable {
    let store: WebhookStore
    let outbound: PinnedOutbound
    let notifications: NotificationStore
    let members: MemberStore
    var timeout: TimeAmount = .seconds(15)
    /// Failed attempts before a delivery is given up (the schedule's length by default).
    var schedule: @Sendable (Int) -> TimeInterval? = { WebhookSchedule.delay(afterAttempt: $0) }

    static func kind(tenantRate: (@Sendable (UUID) -> Double?)? = nil) -> JobKind<WebhookJob> {
        JobKind("notifications.deliver-webhook", queue: "webhooks", maxAttempts: 5, timeout: .seconds(60), tenantRate: tenantRate)
    }

    func run(_ job: WebhookJob, context: JobContext) async throws {
        let tenant = context.tenantID
        guard let pending = try await store.pending(job.deliveryId, tenant: tenant) else { return }
        let id = "msg_" + pending.message.uuidString.lowercased()
        let started = ContinuousClock.now
        var status: Int?
        var error: String?
        var retryAfter: TimeInterval?
        do {
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: pending.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "platform-webhooks/1")
            request.headers.add(name: "webhook-id", value: id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature", value: WebhookSignature.header(id: id, timestamp: timestamp, body: pending.body, secrets: pending.secrets))
            request.body = .bytes(ByteBuffer(string: pending.body))
            let response = try await outbound.execute(request, timeout: timeout)
            // The answer's body is not needed; a little is read so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 << 10)
            status = Int(response.status.code)
            if response.status.code == 429 || response.status.code == 503 {
                retryAfter = response.headers.first(name: "retry-after").flatMap(TimeInterval.init).map { min(max($0, 1), 86400) }
            }
        } catch let refusal as DestinationPolicy.Refusal {
            error = "refused: the URL \(refusal)"
        } catch let failure as HTTPClientError where failure == .deadlineExceeded || failure == .readTimeout {
            error = "timed out after \(timeout.nanoseconds / 1_000_000_000) s"
        } catch let failure {
            error = "\(failure)"
        }
        let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
        let outcome = decide(status: status, retryAfter: retryAfter, pending: pending)
        if case .succeeded = outcome, let status {
            return try await store.recordSuccess(
                .init(delivery: job.deliveryId, endpoint: pending.endpoint, status: status, latencyMs: latency), tenant: tenant)
        }
        let disabled = try await store.record(
            job.deliveryId, pending, status: status, latencyMs: latency,
            error: error ?? status.flatMap { (200..<300).contains($0) ? nil : "answered \($0)" },
            outcome: outcome, tenant: tenant)
        if disabled, case .disableEndpoint(let reason) = outcome {
            try await tellAdmins(endpoint: pending.endpoint, url: pending.url, reason: reason, delivery: job.deliveryId, tenant: tenant)
        }
    }

    func decide(status: Int?, retryAfter: TimeInterval?, pending: PendingWebhook, now: Date = Date()) -> WebhookStore.Outcome {
        if let status, (200..<300).contains(status) { return .succeeded }
        if status == 410 { return .disableEndpoint("the endpoint answered 410 Gone") }
        if let since = pending.failingSince, now.timeIntervalSince(since) >= WebhookSchedule.disableAfter {
            return .disableEndpoint("it failed continuously for 5 days")
        }
        let attempt = pending.attempts + 1
        guard let delay = schedule(attempt) else { return .failed }
        return .retry(now.addingTimeInterval(retryAfter ?? delay))
    }

    /// The tenant's owners and admins hear of it by email (and in their inbox).
    private func tellAdmins(endpoint: UUID, url: String, reason: String, delivery: UUID, tenant: UUID) async throws {
        let admins = try await store.database.withTenant(tenant) { connection in try await members.admins(on: connection) }
        for admin in admins {
            try await notifications.accept(
                NotificationRequest(
                    idempotencyKey:
                        "webhook-disabled/\(endpoint.uuidString.lowercased())/\(delivery.uuidString.lowercased())/\(admin.userID.uuidString.lowercased())",
                    tenantId: tenant, recipient: .init(userId: admin.userID), category: "webhooks", templateKey: "webhook-disabled",
                    data: ["url": url, "reason": reason, "endpointId": endpoint.uuidString.lowercased()], channels: ["email", "in_app"],
                    priority: .urgent, requestedAt: Date()))
        }
    }
}
