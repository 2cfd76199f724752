import Contracts
import Foundation
import Synchronization

/// Every tenant's plan and status, as `auth.tenant.v1` last told this replica. Read on
/// every request or send, so it lives in memory; no call to auth on those paths.
public final class TenantDirectory: Sendable {
    public struct Entry: Sendable, Equatable {
        public var plan: Plan
        public var suspended: Bool
        public var version: Int
    }

    public init() {}

    private let entries = Mutex<[UUID: Entry]>([:])

    /// Applies an event unless an equal or newer version is already known.
    public func apply(_ event: TenantEvent) {
        let entry = Entry(plan: Plan(rawValue: event.plan) ?? .free, suspended: event.status == "suspended", version: event.version)
        entries.withLock { entries in
            if let known = entries[event.tenantId], known.version >= event.version { return }
            entries[event.tenantId] = entry
        }
    }

    /// A tenant the feed has not announced yet (created a moment ago) counts as an active
    /// free tenant: the strictest limits, never a false refusal.
    public func entry(_ tenant: UUID) -> Entry {
        entries.withLock { $0[tenant] } ?? Entry(plan: .free, suspended: false, version: 0)
    }

    public var count: Int { entries.withLock { $0.count } }
}
