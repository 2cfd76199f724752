import Foundation
import Synchronization

/// What is the same for every user of a tenant (trending items, the tenant's click-through
/// rate), computed at most once per `lifetime` per tenant and replica instead of per feed.
final class TenantWide<Value: Sendable>: Sendable {
    private let lifetime: Duration
    private let kept = Mutex<[UUID: (value: Value, at: ContinuousClock.Instant)]>([:])

    init(lifetime: Duration = .seconds(30)) {
        self.lifetime = lifetime
    }

    func value(for tenant: UUID, compute: () async throws -> Value) async throws -> Value {
        let now = ContinuousClock.now
        if let entry = kept.withLock({ $0[tenant] }), now - entry.at < lifetime { return entry.value }
        let value = try await compute()
        kept.withLock { kept in
            // Entries of tenants gone quiet go when the map grows.
            if kept.count > 10_000 { kept = kept.filter { now - $0.value.at < lifetime } }
            kept[tenant] = (value, .now)
        }
        return value
    }

    func forget(_ tenant: UUID) {
        _ = kept.withLock { $0.removeValue(forKey: tenant) }
    }
}
