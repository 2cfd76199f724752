import Contracts
import Foundation
import Logging
import Metrics

/// The daily digests: every minute the due users are claimed (once per user and local day) a
/// tenant's batch at a time, then each batch of claimed digests is assembled and handed to
/// notifications as `notifications.request.v1` commands (template `digest.daily`).
struct DigestSending: Sendable {
    let store: DigestStore
    let feeds: FeedStore
    let sources: SourceStore
    static let source = "experience"
    /// A dispatch stops taking new batches after this, so the next minute's run is not held up
    /// (what is left is still due, and the next run takes it).
    static let dispatchBudget: Duration = .seconds(45)

    /// Claims every due user it can within the budget; answers how many digests it claimed.
    @discardableResult
    func dispatch(now: Date = Date(), logger: Logger) async throws -> Int {
        let clock = ContinuousClock()
        let started = clock.now
        var claimed = 0
        while clock.now - started < Self.dispatchBudget {
            let due = try await store.due(now: now)
            guard !due.isEmpty else { break }
            for (tenant, users) in Dictionary(grouping: due, by: \.tenant) {
                let claims = try await store.claim(users: users.map(\.user), tenant: tenant, now: now)
                for claim in claims.values {
                    switch claim {
                    case .claimed: claimed += 1
                    case .missed:
                        Counter(label: "experience_digests_total", dimensions: [("outcome", "missed_window")]).increment()
                        logger.warning("digest window missed; next one tomorrow", metadata: ["tenant_id": "\(tenant)"])
                    case .alreadyClaimed, .notDue: break
                    }
                }
            }
            // Every due user was claimed, skipped or is held by another dispatcher.
            if due.count < DigestStore.dueBatch { break }
        }
        return claimed
    }

    /// Assembles a batch of one tenant's digests: the new articles read once for the batch,
    /// each reader's profile and sources in one query each, and every outcome written in one
    /// transaction with its email request.
    func assemble(_ ids: [UUID], tenant: UUID, now: Date = Date()) async throws {
        let digests = try await store.due(ids, tenant: tenant)
        guard !digests.isEmpty else { return }
        let users = Array(Set(digests.map(\.userId)))
        async let preferences = store.preferences(users: users, tenant: tenant)
        async let previous = store.previousSent(users: users, excluding: ids, tenant: tenant)
        async let profiles = feeds.profiles(users: users, tenant: tenant, now: now)
        async let followed = sources.followed(users: users, tenant: tenant)
        let last = try await previous
        let since = Dictionary(
            uniqueKeysWithValues: digests.map { ($0.id, last[$0.userId] ?? $0.scheduledAt.addingTimeInterval(-DigestAssembly.firstLookback)) })
        let candidates = DigestAssembly.prepare(try await store.candidates(since: since.values.min() ?? now, until: now, tenant: tenant), now: now)
        let (chosen, read, sources) = (try await preferences, try await profiles, try await followed)
        var finished: [DigestStore.Finished] = []
        for digest in digests {
            let preferences = chosen[digest.userId] ?? .defaults()
            let after = since[digest.id] ?? now
            let articles = DigestAssembly.pick(
                candidates.filter { ($0.item.publishedAt ?? .distantPast) > after },
                profile: read[digest.userId] ?? UserProfile(entries: [], now: now), followed: sources[digest.userId] ?? [:],
                muted: Set(preferences.mutedTopics), maxItems: preferences.maxItems)
            finished.append(try finish(digest, articles: articles, tenant: tenant, now: now))
        }
        try await store.finish(finished, tenant: tenant)
        for outcome in finished { Counter(label: "experience_digests_total", dimensions: [("outcome", outcome.state)]).increment() }
    }

    /// How one digest ends: empty, without an address, or sent with its email request.
    func finish(_ digest: Digest, articles: [Digest.Article], tenant: UUID, now: Date) throws -> DigestStore.Finished {
        guard !articles.isEmpty else { return .init(id: digest.id, state: "nothing_new", articles: [], request: nil) }
        // Notifications finds the address of a platform user; a user an API client named by its
        // own key has none.
        guard let recipient = UUID(uuidString: digest.userId) else {
            return .init(id: digest.id, state: "no_address", articles: articles, request: nil)
        }
        let id = digest.id.uuidString.lowercased()
        // Normal priority: low would fold it into notifications' own digest of minor notices,
        // and the user chose this time.
        let request = NotificationRequest(
            idempotencyKey: "digest:\(id)", tenantId: tenant, recipient: .init(userId: recipient), category: "digest", templateKey: "digest.daily",
            data: ["count": "\(articles.count)", "date": digest.localDate, "digestId": id, "articles": DigestAssembly.text(articles)],
            channels: ["email"], priority: .normal, requestedAt: now)
        let envelope = try EventEnvelope.make(
            request, type: NotificationRequest.type, on: Topics.notificationsRequest, source: Self.source, tenantID: tenant)
        return .init(id: digest.id, state: "sent", articles: articles, request: envelope)
    }
}
