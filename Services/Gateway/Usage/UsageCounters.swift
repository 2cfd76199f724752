import Foundation
import Synchronization

/// Per-tenant request counts of this replica over the last hour (minute buckets) and
/// day (hour buckets), for `/v1/admin/usage`. A bucket is reused when its time comes
/// round again, so memory per tenant is fixed.
final class UsageCounters: Sendable {
    struct Bucket {
        var stamp = -1
        var requests = 0
        var limited = 0
    }

    struct TenantUsage {
        var minutes = [Bucket](repeating: Bucket(), count: 60)
        var hours = [Bucket](repeating: Bucket(), count: 24)

        static func add(_ buckets: inout [Bucket], stamp: Int, limited: Bool) {
            let index = stamp % buckets.count
            if buckets[index].stamp != stamp { buckets[index] = Bucket(stamp: stamp) }
            buckets[index].requests += 1
            if limited { buckets[index].limited += 1 }
        }
    }

    struct Summary: Codable, Sendable, Equatable {
        var requestsLastHour = 0
        var requestsLastDay = 0
        var limitedLastHour = 0
        var limitedLastDay = 0
    }

    private let tenants = Mutex<[UUID: TenantUsage]>([:])

    func record(_ tenant: UUID, limited: Bool, now: Date = Date()) {
        let minute = Int(now.timeIntervalSince1970 / 60)
        // In place: a copy taken out of the dictionary would copy both bucket arrays on every request.
        tenants.withLock { tenants in
            TenantUsage.add(&tenants[tenant, default: TenantUsage()].minutes, stamp: minute, limited: limited)
            TenantUsage.add(&tenants[tenant, default: TenantUsage()].hours, stamp: minute / 60, limited: limited)
        }
    }

    func summary(_ tenant: UUID, now: Date = Date()) -> Summary {
        let minute = Int(now.timeIntervalSince1970 / 60)
        guard let usage = tenants.withLock({ $0[tenant] }) else { return Summary() }
        var summary = Summary()
        for bucket in usage.minutes where bucket.stamp > minute - 60 {
            summary.requestsLastHour += bucket.requests
            summary.limitedLastHour += bucket.limited
        }
        for bucket in usage.hours where bucket.stamp > minute / 60 - 24 {
            summary.requestsLastDay += bucket.requests
            summary.limitedLastDay += bucket.limited
        }
        return summary
    }
}
