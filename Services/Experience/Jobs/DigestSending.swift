import Contracts
import Foundation
import Logging
import Metrics

/// The daily digests: every minute the due users are claimed (once per user and local day),
/// then each claimed digest is assembled and handed to notifications as a
/// `notifications.request.v1` command (template `digest.daily`).
struct DigestSending: Sendable {
    let store: DigestStore
    let feeds: FeedStore
    let sources: SourceStore
    static let source = "experience"

    func dispatch(now: Date = Date(), logger: Logger) async throws {
        for (tenant, user) in try await store.due(now: now) {
            let claim = try await store.claim(user: user, tenant: tenant, now: now)
            switch claim {
            case .missed:
                Counter(label: "experience_digests_total", dimensions: [("outcome", "missed_window")]).increment()
                logger.warning("digest window missed; next one tomorrow", metadata: ["tenant_id": "\(tenant)"])
            case .claimed, .alreadyClaimed, .notDue: break
            }
        }
    }

    func assemble(_ id: UUID, tenant: UUID, now: Date = Date()) async throws {
        let digest = try await store.digest(id, tenant: tenant)
        guard digest.state == "due" else { return }
        let preferences = try await store.preferences(user: digest.userId, tenant: tenant)
        let since =
            try await store.previousDigest(before: id, user: digest.userId, tenant: tenant)
            ?? digest.scheduledAt.addingTimeInterval(-DigestAssembly.firstLookback)
        let candidates = try await store.candidates(since: since, until: now, tenant: tenant)
        let profile = try await feeds.profile(user: digest.userId, tenant: tenant, now: now)
        let followed = Dictionary(
            try await sources.list(user: digest.userId, tenant: tenant).map { ($0.id.uuidString.lowercased(), $0.userId == nil ? 0.5 : 1.0) }
        ) { max($0, $1) }
        let articles = DigestAssembly.pick(
            candidates, profile: profile, followed: followed, muted: Set(preferences.mutedTopics), maxItems: preferences.maxItems, now: now)
        guard !articles.isEmpty else {
            Counter(label: "experience_digests_total", dimensions: [("outcome", "nothing_new")]).increment()
            return try await store.finish(id, state: "nothing_new", articles: [], request: nil, tenant: tenant)
        }
        // Notifications finds the address of a platform user; a user an API client named by its
        // own key has none.
        guard let recipient = UUID(uuidString: digest.userId) else {
            Counter(label: "experience_digests_total", dimensions: [("outcome", "no_address")]).increment()
            return try await store.finish(id, state: "no_address", articles: articles, request: nil, tenant: tenant)
        }
        // Normal priority: low would fold it into notifications' own digest of minor notices,
        // and the user chose this time.
        let request = NotificationRequest(
            idempotencyKey: "digest:\(id.uuidString.lowercased())", tenantId: tenant, recipient: .init(userId: recipient), category: "digest",
            templateKey: "digest.daily",
            data: [
                "count": "\(articles.count)", "date": digest.localDate, "digestId": id.uuidString.lowercased(),
                "articles": DigestAssembly.text(articles),
            ], channels: ["email"], priority: .normal, requestedAt: now)
        let envelope = try EventEnvelope.make(
            request, type: NotificationRequest.type, on: Topics.notificationsRequest, source: Self.source, tenantID: tenant)
        try await store.finish(id, state: "sent", articles: articles, request: envelope, tenant: tenant)
        Counter(label: "experience_digests_total", dimensions: [("outcome", "sent")]).increment()
    }
}
