import Contracts
import Foundation
import Messaging

/// `photoml.session.v1`: tells the person who uploaded the photos how their count went.
/// Machines (client-credential subjects) upload too; nobody is told of theirs.
///
/// Duplicates: idempotency key (session id and version: a retried session that ends again
/// is news, a redelivered event is not).
struct PhotoSessionFeed: BatchHandling {
    static let group = "notifications.photoml"
    let topics = [Topics.photomlSession]
    let maxBatch = 200
    let store: NotificationStore

    func handle(_ events: [EventEnvelope]) async throws {
        var byTenant: [UUID: [NotificationRequest]] = [:]
        for event in events where Topics.photomlSession.eventTypes.contains(event.type) {
            let session = try event.decode(PhotoSessionFinished.self)
            guard let request = Self.request(for: session) else { continue }
            byTenant[session.tenantId, default: []].append(request)
        }
        for (tenant, requests) in byTenant { try await store.accept(requests, tenant: tenant) }
    }

    static let completedTemplate = "photo-session-completed"
    static let failedTemplate = "photo-session-failed"

    static func request(for session: PhotoSessionFinished) -> NotificationRequest? {
        guard let uploader = UUID(uuidString: session.uploadedBy) else { return nil }
        let failed = session.state == "failed"
        var data = [
            "sessionId": session.sessionId.uuidString.lowercased(), "locationName": session.locationName, "detected": String(session.detected),
            "photos": String(session.photos),
        ]
        if let product = session.productName { data["productName"] = product }
        if let estimate = session.estimate {
            data["estimate"] = String(estimate.count)
            data["estimateRange"] = "\(estimate.low)–\(estimate.high)"
        }
        if !session.warnings.isEmpty { data["warnings"] = session.warnings.joined(separator: ", ") }
        if let error = session.error { data["error"] = error }
        return NotificationRequest(
            idempotencyKey: "photoml-session:\(session.key):v\(session.version)", tenantId: session.tenantId, recipient: .init(userId: uploader),
            category: "photoml", templateKey: failed ? failedTemplate : completedTemplate, data: data, channels: [],
            priority: .normal, requestedAt: session.occurredAt)
    }
}
