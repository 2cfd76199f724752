import Contracts
import Foundation
import Metrics
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

    static func checks(route: Route, identity: Identity?, plan: Plan, clientIP: String?) -> [Check] {
        var checks: [Check] = []
        let limits = plan.limits
        if let identity {
            let tenant = identity.tenantID.uuidString.lowercased()
            if route.limits.limitsTenants {
                checks.append(Check(scope: "tenant", key: "t:\(tenant)", limit: RateLimit(rate: Double(limits.requestsPerSecond), burst: limits.burst)))
            }
            if route.limits.limitsUsers {
                checks.append(
                    Check(
                        scope: "user", key: "u:\(tenant):\(identity.subject)",
                        limit: RateLimit(rate: Double(limits.userRequestsPerSecond), burst: limits.userRequestsPerSecond * 4)))
            }
        }
        if let perMinute = route.limits.ipPerMinute, let clientIP {
            checks.append(
                Check(scope: "ip", key: "ip:\(route.limits.name):\(clientIP)", limit: RateLimit(rate: Double(perMinute) / 60, burst: route.limits.ipBurst)))
        }
        return checks
    }

    /// The limiter's answers at once when it keeps its state in this process; `nil` when
    /// it must be asked over the network (`evaluate`).
    func evaluateNow(_ checks: [Check], route: Route, plan: Plan) -> Outcome? {
        guard let immediate else { return nil }
        let now = Date().timeIntervalSince1970
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

    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers), structured fields.
    static func headers(_ binding: (Check, LimitDecision)) -> (policy: String, state: String) {
        let (check, decision) = binding
        let policy = "\"\(check.scope)\";q=\(check.limit.burst);w=\(check.limit.windowSeconds)"
        let state = "\"\(check.scope)\";r=\(decision.remaining);t=\(Int(decision.resetSeconds.rounded(.up)))"
        return (policy, state)
    }
}
