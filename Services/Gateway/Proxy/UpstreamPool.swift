import Foundation
import Metrics
import Synchronization

/// Round-robin over a route's upstreams with passive health: an upstream that fails
/// `failureThreshold` times in a row is skipped (its breaker opens) for `coolDown`
/// seconds; then one request probes it (half-open) and its outcome closes or reopens it.
///
/// An upstream that answers `Connection: close` is leaving (a replica draining on
/// SIGTERM says so on every answer): for `coolDown` seconds it is tried only after the
/// others. Otherwise each of its answers would send the next request over a new
/// connection to it, and one made just as it stops accepting is reset with the request
/// on it: a 502 for a POST, which cannot safely be sent again.
final class UpstreamPool: Sendable {
    struct Health {
        var consecutiveFailures = 0
        var openUntil: Double = 0
        var probing = false
    }

    let failureThreshold: Int
    let coolDown: Double
    private let health = Mutex<[Upstream: Health]>([:])
    private let turn = Atomic<Int>(0)
    /// How many upstreams have failed since they last answered: while none has, requests
    /// skip the lock (the common case, on every request).
    private let failing = Atomic<Int>(0)
    /// Until when each upstream that said it is leaving goes last.
    private let leavingUntil = Mutex<[Upstream: Double]>([:])
    /// Whether any has said so lately: while none has, requests skip that lock.
    private let anyLeaving = Atomic<Bool>(false)

    init(failureThreshold: Int = 5, coolDown: Double = 10) {
        self.failureThreshold = failureThreshold
        self.coolDown = coolDown
    }

    /// The upstreams to try, in order: this request's round-robin turn first, breakers
    /// that are open left out. Empty when every breaker is open.
    func candidates(_ upstreams: [Upstream], now: Double) -> [Upstream] {
        if upstreams.count == 1, failing.load(ordering: .relaxed) == 0 { return upstreams }
        let start = upstreams.count > 1 ? turn.wrappingAdd(1, ordering: .relaxed).oldValue : 0
        var ordered = (0..<upstreams.count).map { upstreams[(start + $0) % upstreams.count] }
        if upstreams.count > 1, anyLeaving.load(ordering: .relaxed) {
            let leaving = leavingUntil.withLock { until in
                until = until.filter { $0.value > now }
                if until.isEmpty { anyLeaving.store(false, ordering: .relaxed) }
                return Set(until.keys)
            }
            if !leaving.isEmpty { ordered = ordered.filter { !leaving.contains($0) } + ordered.filter { leaving.contains($0) } }
        }
        return health.withLock { health in
            ordered.filter { upstream in
                guard var state = health[upstream], state.consecutiveFailures >= failureThreshold else { return true }
                guard now >= state.openUntil, !state.probing else { return false }
                state.probing = true
                health[upstream] = state
                return true
            }
        }
    }

    func leaving(_ upstream: Upstream, now: Double) {
        leavingUntil.withLock { $0[upstream] = now + coolDown }
        anyLeaving.store(true, ordering: .relaxed)
    }

    func record(_ upstream: Upstream, success: Bool, now: Double) {
        if success, failing.load(ordering: .relaxed) == 0 { return }
        let (wasOpen, isOpen) = health.withLock { health in
            var state = health[upstream] ?? Health()
            let wasOpen = state.consecutiveFailures >= failureThreshold
            state.probing = false
            if success {
                if state.consecutiveFailures > 0 { failing.subtract(1, ordering: .relaxed) }
                state.consecutiveFailures = 0
            } else {
                if state.consecutiveFailures == 0 { failing.add(1, ordering: .relaxed) }
                state.consecutiveFailures += 1
                if state.consecutiveFailures >= failureThreshold { state.openUntil = now + coolDown }
            }
            health[upstream] = state
            return (wasOpen, state.consecutiveFailures >= failureThreshold)
        }
        // 1 while the breaker is open (or half-open), 0 once it has closed.
        if wasOpen != isOpen || (!success && isOpen) {
            Gauge(label: "gateway_breaker_open", dimensions: [("upstream", upstream.base)]).record(isOpen ? 1 : 0)
        }
    }
}
