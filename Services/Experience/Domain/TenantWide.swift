import Foundation
import Synchronization

/// What is the same for every user of a tenant (trending items, the tenant's click-through
/// rate), computed once per `lifetime` per tenant and replica instead of per feed. Past its
/// lifetime a value is still served while one refresh runs beside the requests, so only a
/// tenant's very first feed waits for the computation.
final class TenantWide<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var at: ContinuousClock.Instant
        var refreshing = false
    }

    private let lifetime: Duration
    private let kept = Mutex<[UUID: Entry]>([:])

    init(lifetime: Duration = .seconds(30)) {
        self.lifetime = lifetime
    }

    func value(for tenant: UUID, compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let now = ContinuousClock.now
        let (stale, refresh) = kept.withLock { kept -> (Value?, Bool) in
            guard var entry = kept[tenant] else { return (nil, false) }
            guard now - entry.at >= lifetime else { return (entry.value, false) }
            // Stale: one refresh at a time; everyone meanwhile gets the old value.
            let refresh = !entry.refreshing
            entry.refreshing = true
            kept[tenant] = entry
            return (entry.value, refresh)
        }
        if let stale {
            if refresh {
                Task {
                    if let value = try? await compute() {
                        self.store(value, for: tenant)
                    } else {
                        // Failed: the next request past the lifetime tries again.
                        self.kept.withLock { $0[tenant]?.refreshing = false }
                    }
                }
            }
            return stale
        }
        let value = try await compute()
        store(value, for: tenant)
        return value
    }

    private func store(_ value: Value, for tenant: UUID) {
        let now = ContinuousClock.now
        kept.withLock { kept in
            // Entries of tenants gone quiet go when the map grows.
            if kept.count > 10_000 { kept = kept.filter { now - $0.value.at < lifetime * 10 } }
            kept[tenant] = Entry(value: value, at: now)
        }
    }

    func forget(_ tenant: UUID) {
        _ = kept.withLock { $0.removeValue(forKey: tenant) }
    }
}
