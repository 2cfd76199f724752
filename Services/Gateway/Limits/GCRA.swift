import Foundation
import Synchronization

/// A rate: `rate` requests per second sustained, `burst` at once.
struct RateLimit: Sendable, Equatable {
    var rate: Double
    var burst: Int

    /// The draft-ietf-httpapi-ratelimit-headers window that holds `burst` requests.
    var windowSeconds: Int { max(1, Int((Double(burst) / rate).rounded(.up))) }
}

struct LimitDecision: Sendable, Equatable {
    var allowed: Bool
    /// Requests still allowed at once.
    var remaining: Int
    /// Seconds until the allowance is full again.
    var resetSeconds: Double
    /// Seconds until a refused request would be allowed.
    var retryAfterSeconds: Double
}

/// Where the limiter keeps its state. One replica keeps it in memory; several replicas
/// may share a store (e.g. Redis running the same GCRA as a script) behind this protocol.
protocol RateLimiter: Sendable {
    func acquire(_ key: String, _ limit: RateLimit, now: Double) async -> LimitDecision
}

/// A limiter that answers without waiting, so the proxy decides on the event loop.
protocol ImmediateRateLimiter: RateLimiter {
    func acquireNow(_ key: String, _ limit: RateLimit, now: Double) -> LimitDecision
}

/// The Generic Cell Rate Algorithm (ITU-T I.371): one "theoretical arrival time" per key,
/// no timers, no buckets to refill.
enum GCRA {
    /// The decision for a request at `now` given the key's stored arrival time; answers
    /// the new arrival time to store when allowed.
    static func decide(tat stored: Double?, limit: RateLimit, now: Double) -> (LimitDecision, Double?) {
        let interval = 1 / limit.rate
        let tolerance = interval * Double(limit.burst)
        let tat = max(stored ?? now, now)
        let next = tat + interval
        if next - now > tolerance + 1e-9 {
            let retry = next - now - tolerance
            return (LimitDecision(allowed: false, remaining: 0, resetSeconds: tat - now, retryAfterSeconds: retry), nil)
        }
        let remaining = Int(((tolerance - (next - now)) / interval).rounded(.down) + 1e-9)
        return (LimitDecision(allowed: true, remaining: max(0, remaining), resetSeconds: next - now, retryAfterSeconds: 0), next)
    }
}

/// GCRA state in this process, sharded to keep lock contention low. Keys whose arrival
/// time has passed carry no information and are swept out as the table grows.
final class LocalRateLimiter: ImmediateRateLimiter {
    final class Shard: Sendable {
        let table = Mutex<[String: Double]>([:])
    }

    private let shards: [Shard]
    private let sweepAbove: Int

    init(shards: Int = 16, sweepAbove: Int = 100_000) {
        self.shards = (0..<shards).map { _ in Shard() }
        self.sweepAbove = sweepAbove
    }

    func acquire(_ key: String, _ limit: RateLimit, now: Double) async -> LimitDecision {
        acquireNow(key, limit, now: now)
    }

    func acquireNow(_ key: String, _ limit: RateLimit, now: Double) -> LimitDecision {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.table.withLock { table in
            let (decision, next) = GCRA.decide(tat: table[key], limit: limit, now: now)
            if let next { table[key] = next }
            if table.count > sweepAbove / shards.count { table = table.filter { $0.value > now } }
            return decision
        }
    }
}
