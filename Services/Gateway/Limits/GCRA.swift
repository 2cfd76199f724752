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

/// One key's GCRA state: its theoretical arrival time, changed by compare-and-swap, so
/// a connection that holds its caller's cells decides without a lock or a lookup.
final class RateCell: Sendable {
    /// The arrival time's bit pattern; 0 while the key has none.
    fileprivate let tat = Atomic<UInt64>(0)
    /// Set when the limiter forgets the key; whoever holds the cell looks the key up again.
    fileprivate let retiredFlag = Atomic<Bool>(false)

    var isRetired: Bool { retiredFlag.load(ordering: .relaxed) }

    func acquire(_ limit: RateLimit, now: Double) -> LimitDecision {
        while true {
            let stored = tat.load(ordering: .relaxed)
            let (decision, next) = GCRA.decide(tat: stored == 0 ? nil : Double(bitPattern: stored), limit: limit, now: now)
            guard let next else { return decision }
            if tat.compareExchange(expected: stored, desired: next.bitPattern, ordering: .relaxed).exchanged { return decision }
        }
    }

    fileprivate func isIdle(at now: Double) -> Bool {
        let stored = tat.load(ordering: .relaxed)
        return stored == 0 || Double(bitPattern: stored) <= now
    }
}

/// GCRA state in this process: a cell per key, in shards to keep lock contention low.
/// Keys whose arrival time has passed carry no information and are swept out (their
/// cells retired) as the table grows.
final class LocalRateLimiter: RateLimiter {
    final class Shard: Sendable {
        let table = Mutex<[String: RateCell]>([:])
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
        cell(key, now: now).acquire(limit, now: now)
    }

    /// The key's cell, made on first use.
    func cell(_ key: String, now: Double) -> RateCell {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.table.withLock { table in
            if let cell = table[key] { return cell }
            if table.count >= sweepAbove / shards.count {
                table = table.filter { _, cell in
                    guard cell.isIdle(at: now) else { return true }
                    cell.retiredFlag.store(true, ordering: .relaxed)
                    return false
                }
            }
            let cell = RateCell()
            table[key] = cell
            return cell
        }
    }
}
