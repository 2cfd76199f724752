import Foundation
import NIOCore
import Synchronization

/// Home feeds kept for a minute per user, as the JSON bytes sent (a hit encodes nothing). A user's own interaction drops theirs (here at
/// once, in other replicas through `experience.interaction.v1`); a change to the catalogue
/// drops the tenant's (in this replica; others within the minute).
final class HomeCache: Sendable {
    private struct Entry {
        let feed: ByteBuffer
        let generation: Int
        let storedAt: ContinuousClock.Instant
    }

    private struct State {
        var feeds: [String: Entry] = [:]
        var generations: [UUID: Int] = [:]
    }

    static let lifetime = Duration.seconds(60)
    private let capacity: Int
    private let state = Mutex(State())
    /// What is the same for every user of a tenant: computed once per 30 s, not per feed.
    let trending = TenantWide<[Candidate]>()
    let tenantCTR = TenantWide<Double>()
    let experiment = TenantWide<Experiment?>()
    let rules = TenantWide<TenantRules>()
    let reranker = TenantWide<PairwiseReranker?>(lifetime: .seconds(300))

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    private static func key(_ tenant: UUID, _ user: String) -> String { "\(tenant.uuidString):\(user)" }

    func feed(tenant: UUID, user: String) -> ByteBuffer? {
        state.withLock { state in
            guard let entry = state.feeds[Self.key(tenant, user)], entry.generation == state.generations[tenant, default: 0],
                ContinuousClock.now - entry.storedAt < Self.lifetime
            else { return nil }
            return entry.feed
        }
    }

    /// `generation` is what `generation(of:)` said before the feed was built: a catalogue
    /// change while it was being built leaves it uncached.
    func store(_ feed: ByteBuffer, tenant: UUID, user: String, generation: Int) {
        state.withLock { state in
            guard generation == state.generations[tenant, default: 0] else { return }
            if state.feeds.count >= capacity {
                // Full: drop what has expired; if that is not enough, start afresh (a cache
                // miss costs one build, and this is rare by the capacity's choice).
                let now = ContinuousClock.now
                state.feeds = state.feeds.filter { now - $0.value.storedAt < Self.lifetime }
                if state.feeds.count >= capacity { state.feeds.removeAll(keepingCapacity: true) }
            }
            state.feeds[Self.key(tenant, user)] = Entry(feed: feed, generation: generation, storedAt: .now)
        }
    }

    func generation(of tenant: UUID) -> Int {
        state.withLock { $0.generations[tenant, default: 0] }
    }

    func forget(tenant: UUID, users: some Sequence<String>) {
        state.withLock { state in
            for user in users { state.feeds[Self.key(tenant, user)] = nil }
        }
    }

    /// The catalogue or the running experiment changed: every feed of the tenant is stale,
    /// and what they share.
    func forget(tenant: UUID) {
        state.withLock { $0.generations[tenant, default: 0] += 1 }
        trending.forget(tenant)
        tenantCTR.forget(tenant)
        experiment.forget(tenant)
        rules.forget(tenant)
    }

    var count: Int { state.withLock { $0.feeds.count } }
}
