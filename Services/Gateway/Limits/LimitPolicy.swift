import Contracts
import Foundation
import Metrics
import NIOCore
import ServiceKit

/// Which limits apply to a request, and what the limiter said: tenant (from the plan),
/// user or API client (from the plan), client IP (from the route's class).
struct LimitPolicy: Sendable {
    enum Scope: String, Sendable, CaseIterable {
        case tenant, user, ip
    }

    struct Check: Sendable {
        var scope: Scope
        var key: String
        var limit: RateLimit
        /// The key's cell in the local limiter, when the connection already holds it.
        var cell: RateCell?
    }

    struct Outcome: Sendable {
        var refused: Bool
        var shadowed: Bool
        /// The most constraining check and its decision, for the headers.
        var binding: (Check, LimitDecision)?
    }

    let limiter: any RateLimiter
    /// The limiter again when it keeps its state in this process and so answers at once;
    /// found once here, not per request.
    private let local: LocalRateLimiter?

    private static let decisions = ["allowed", "would_limit", "limited"]
    /// Every decision × scope × plan counter, made at start: a lookup per check showed on
    /// the proxy's profile.
    private let decisionCounters: [Counter]

    init(limiter: any RateLimiter) {
        self.limiter = limiter
        self.local = limiter as? LocalRateLimiter
        var counters: [Counter] = []
        for decision in Self.decisions {
            for scope in Scope.allCases {
                for plan in Plan.allCases {
                    counters.append(
                        Counter(
                            label: "gateway_rate_limit_decisions_total",
                            dimensions: [("decision", decision), ("scope", scope.rawValue), ("plan", plan.rawValue)]))
                }
            }
        }
        self.decisionCounters = counters
    }

    private func counter(decision: Int, scope: Scope, plan: Plan) -> Counter {
        let scopeIndex = Scope.allCases.firstIndex(of: scope) ?? 0
        let planIndex = Plan.allCases.firstIndex(of: plan) ?? 0
        return decisionCounters[(decision * Scope.allCases.count + scopeIndex) * Plan.allCases.count + planIndex]
    }

    /// `held` while the limiter still knows it, else the key's cell now; nil when the
    /// limiter is not local.
    func cell(_ key: String, now: Double, held: RateCell?) -> RateCell? {
        if let held, !held.isRetired { return held }
        return local?.cell(key, now: now)
    }

    /// A caller's limiter keys, made once per token rather than per request.
    struct CallerKeys: Sendable {
        var tenant: String
        var user: String

        init(_ identity: Identity) {
            let tenant = identity.tenantID.uuidString.lowercased()
            self.tenant = "t:\(tenant)"
            self.user = "u:\(tenant):\(identity.subject)"
        }
    }

    static func ipKey(_ route: Route, _ clientIP: String) -> String { "ip:\(route.limits.name):\(clientIP)" }

    /// The cells a connection holds for its caller and address, if any.
    struct HeldCells {
        var tenant: RateCell?
        var user: RateCell?
        var ip: RateCell?
    }

    static func checks(route: Route, keys: CallerKeys?, plan: Plan, ipKey: String?, cells: HeldCells = HeldCells()) -> [Check] {
        var checks: [Check] = []
        checks.reserveCapacity(3)
        let limits = plan.limits
        if let keys {
            if route.limits.limitsTenants {
                checks.append(
                    Check(
                        scope: .tenant, key: keys.tenant, limit: RateLimit(rate: Double(limits.requestsPerSecond), burst: limits.burst),
                        cell: cells.tenant))
            }
            if route.limits.limitsUsers {
                checks.append(
                    Check(
                        scope: .user, key: keys.user,
                        limit: RateLimit(rate: Double(limits.userRequestsPerSecond), burst: limits.userRequestsPerSecond * 4), cell: cells.user))
            }
        }
        if let perMinute = route.limits.ipPerMinute, let ipKey {
            checks.append(Check(scope: .ip, key: ipKey, limit: RateLimit(rate: Double(perMinute) / 60, burst: route.limits.ipBurst), cell: cells.ip))
        }
        return checks
    }

    /// The limiter's answers at once when it keeps its state in this process; `nil` when
    /// it must be asked over the network (`evaluate`).
    func evaluateNow(_ checks: [Check], route: Route, plan: Plan, now: Double) -> Outcome? {
        guard let local else { return nil }
        let decisions = checks.map { check in
            let cell = check.cell.flatMap { $0.isRetired ? nil : $0 } ?? local.cell(check.key, now: now)
            return cell.acquire(check.limit, now: now)
        }
        return combine(decisions, checks, route: route, plan: plan)
    }

    func evaluate(_ checks: [Check], route: Route, plan: Plan) async -> Outcome {
        let now = Date().timeIntervalSince1970
        var decisions: [LimitDecision] = []
        for check in checks { decisions.append(await limiter.acquire(check.key, check.limit, now: now)) }
        return combine(decisions, checks, route: route, plan: plan)
    }

    /// Counts the decisions and picks the most constraining one for the headers.
    private func combine(_ decisions: [LimitDecision], _ checks: [Check], route: Route, plan: Plan) -> Outcome {
        var binding: (Check, LimitDecision)?
        var refused = false
        for (check, decision) in zip(checks, decisions) {
            counter(decision: decision.allowed ? 0 : (route.limits.shadow ? 1 : 2), scope: check.scope, plan: plan).increment()
            if !decision.allowed { refused = true }
            if let current = binding {
                let tighter =
                    !decision.allowed && current.1.allowed || (decision.allowed == current.1.allowed && decision.remaining < current.1.remaining)
                if tighter { binding = (check, decision) }
            } else {
                binding = (check, decision)
            }
        }
        return Outcome(refused: refused && !route.limits.shadow, shadowed: refused && route.limits.shadow, binding: binding)
    }

    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers), structured
    /// fields, written straight into an answer's head.
    static func writeHeaders(_ binding: (Check, LimitDecision), into out: inout ByteBuffer) {
        let (check, decision) = binding
        out.writeStaticString("RateLimit-Policy: \"")
        out.writeString(check.scope.rawValue)
        out.writeStaticString("\";q=")
        out.writeDecimal(check.limit.burst)
        out.writeStaticString(";w=")
        out.writeDecimal(check.limit.windowSeconds)
        out.writeStaticString("\r\nRateLimit: \"")
        out.writeString(check.scope.rawValue)
        out.writeStaticString("\";r=")
        out.writeDecimal(decision.remaining)
        out.writeStaticString(";t=")
        out.writeDecimal(Int(decision.resetSeconds.rounded(.up)))
        out.writeStaticString("\r\n")
    }
}

extension ByteBuffer {
    /// `value` in decimal, without making a string.
    mutating func writeDecimal(_ value: Int) {
        guard value != 0 else {
            writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = value.magnitude
        withUnsafeMutableBytes(of: &digits) { scratch in
            while rest > 0 {
                scratch[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            if value < 0 { writeInteger(UInt8(ascii: "-")) }
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }
}
