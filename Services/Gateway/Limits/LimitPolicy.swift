import Contracts
import Foundation
import Metrics
import NIOCore
import ServiceKit

/// Which limits apply to a request, and what the limiter said: tenant (from the plan),
/// user or API client (from the plan), client IP (from the route's class).
struct LimitPolicy: Sendable {
    struct Check: Sendable {
        var scope: String
        var key: String
        var limit: RateLimit
    }

    struct Outcome: Sendable {
        var refused: Bool
        var shadowed: Bool
        /// The most constraining check and its decision, for the headers.
        var binding: (Check, LimitDecision)?
    }

    let limiter: any RateLimiter
    struct DecisionKey: Hashable, Sendable {
        var decision: String
        var scope: String
        var plan: Plan
    }
    private let decisionCounters = MetricCache<DecisionKey, Counter>()

    /// The limiter again when it answers at once; found once here, not per request.
    private let immediate: (any ImmediateRateLimiter)?

    init(limiter: any RateLimiter) {
        self.limiter = limiter
        self.immediate = limiter as? any ImmediateRateLimiter
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

    static func checks(route: Route, keys: CallerKeys?, plan: Plan, ipKey: String?) -> [Check] {
        var checks: [Check] = []
        checks.reserveCapacity(3)
        let limits = plan.limits
        if let keys {
            if route.limits.limitsTenants {
                checks.append(Check(scope: "tenant", key: keys.tenant, limit: RateLimit(rate: Double(limits.requestsPerSecond), burst: limits.burst)))
            }
            if route.limits.limitsUsers {
                checks.append(
                    Check(
                        scope: "user", key: keys.user,
                        limit: RateLimit(rate: Double(limits.userRequestsPerSecond), burst: limits.userRequestsPerSecond * 4)))
            }
        }
        if let perMinute = route.limits.ipPerMinute, let ipKey {
            checks.append(Check(scope: "ip", key: ipKey, limit: RateLimit(rate: Double(perMinute) / 60, burst: route.limits.ipBurst)))
        }
        return checks
    }

    /// The limiter's answers at once when it keeps its state in this process; `nil` when
    /// it must be asked over the network (`evaluate`).
    func evaluateNow(_ checks: [Check], route: Route, plan: Plan, now: Double) -> Outcome? {
        guard let immediate else { return nil }
        return combine(checks.map { immediate.acquireNow($0.key, $0.limit, now: now) }, checks, route: route, plan: plan)
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
            let label = decision.allowed ? "allowed" : (route.limits.shadow ? "would_limit" : "limited")
            decisionCounters.handle(DecisionKey(decision: label, scope: check.scope, plan: plan)) {
                Counter(label: "gateway_rate_limit_decisions_total", dimensions: [("decision", label), ("scope", check.scope), ("plan", plan.rawValue)])
            }.increment()
            if !decision.allowed { refused = true }
            if let current = binding {
                let tighter = !decision.allowed && current.1.allowed || (decision.allowed == current.1.allowed && decision.remaining < current.1.remaining)
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
        out.writeString(check.scope)
        out.writeStaticString("\";q=")
        out.writeString(String(check.limit.burst))
        out.writeStaticString(";w=")
        out.writeString(String(check.limit.windowSeconds))
        out.writeStaticString("\r\nRateLimit: \"")
        out.writeString(check.scope)
        out.writeStaticString("\";r=")
        out.writeString(String(decision.remaining))
        out.writeStaticString(";t=")
        out.writeString(String(Int(decision.resetSeconds.rounded(.up))))
        out.writeStaticString("\r\n")
    }
}
