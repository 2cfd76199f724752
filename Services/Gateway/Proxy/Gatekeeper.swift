import Contracts
import Foundation
import Logging
import Messaging
import NIOHTTP1
import ServiceKit

/// What the gateway knows about a request when its head arrives.
struct RequestFacts: Sendable {
    var route: Route
    var method: HTTPMethod
    var contentLength: Int?
    var bearer: String?
    var clientIP: String?
}

/// The gateway's answer before any byte goes upstream.
enum Verdict: Sendable {
    case admit(Admission)
    /// Refused here; what was learnt before the refusal (caller, limits) goes into the
    /// answer's headers and the access log.
    case refuse(Problem, Admission?)
}

/// What one client connection has learnt from its earlier requests: a connection
/// usually sends the same token and comes from the same address, so hashing the token,
/// looking it up under a lock and building limiter keys happen once per connection, not
/// once per request.
struct ConnectionMemo {
    struct Caller {
        var token: String
        var identity: Identity
        /// Seconds since 1970 at which the token expires.
        var expires: Double
        var keys: LimitPolicy.CallerKeys
        var tenantCell: RateCell?
        var userCell: RateCell?
    }

    var caller: Caller?
    var ipClass = ""
    var ipAddress = ""
    var ipKey = ""
    var ipCell: RateCell?

    /// The limiter key of `clientIP` for the route's class.
    mutating func ipKey(_ route: Route, _ clientIP: String) -> String {
        if ipClass != route.limits.name || ipAddress != clientIP {
            ipClass = route.limits.name
            ipAddress = clientIP
            ipKey = LimitPolicy.ipKey(route, clientIP)
            ipCell = nil
        }
        return ipKey
    }
}

struct Admission: Sendable {
    var identity: Identity?
    var plan: Plan
    var limits: LimitPolicy.Outcome? = nil
}

/// Body limit, token, tenant status and rate limits, in that order. `decideNow` answers
/// on the event loop for the common case (a token seen before, a limiter in memory);
/// `decide` also verifies new tokens and asks shared limiters.
struct Gatekeeper: Sendable {
    let verifier: TokenVerifier
    let tenants: TenantDirectory
    let limits: LimitPolicy
    let usage: UsageCounters
    let logger: Logger

    func decideNow(_ request: RequestFacts, memo: inout ConnectionMemo) -> Verdict? {
        if let refusal = refuseBeforeToken(request) { return refusal }
        let now = Date().timeIntervalSince1970
        var caller: ConnectionMemo.Caller?
        if !request.route.isPublic {
            guard let token = request.bearer else { return nil }
            if let known = memo.caller, known.token == token, now < known.expires {
                caller = known
            } else if let (identity, expires) = verifier.cachedEntry(token) {
                caller = .init(token: token, identity: identity, expires: expires.timeIntervalSince1970, keys: .init(identity))
            } else {
                return nil
            }
        }
        let identity = caller?.identity
        let (plan, suspended) = tenant(of: identity)
        if let suspended { return suspended }
        // The caller is remembered with its limiter cells, found again if the limiter forgot them.
        var cells = LimitPolicy.HeldCells()
        if var held = caller {
            held.tenantCell = limits.cell(held.keys.tenant, now: now, held: held.tenantCell)
            held.userCell = limits.cell(held.keys.user, now: now, held: held.userCell)
            (cells.tenant, cells.user) = (held.tenantCell, held.userCell)
            memo.caller = held
        }
        var ipKey: String?
        if let clientIP = request.clientIP, request.route.limits.ipPerMinute != nil {
            let key = memo.ipKey(request.route, clientIP)
            memo.ipCell = limits.cell(key, now: now, held: memo.ipCell)
            cells.ip = memo.ipCell
            ipKey = key
        }
        let checks = LimitPolicy.checks(route: request.route, keys: caller?.keys, plan: plan, ipKey: ipKey, cells: cells)
        guard let outcome = limits.evaluateNow(checks, route: request.route, plan: plan, now: now) else { return nil }
        return conclude(request, identity: identity, plan: plan, outcome: outcome)
    }

    func decide(_ request: RequestFacts) async -> Verdict {
        var memo = ConnectionMemo()
        if let verdict = decideNow(request, memo: &memo) { return verdict }
        var identity: Identity?
        if !request.route.isPublic, let token = request.bearer {
            do {
                identity = try await verifier.verify(token)
            } catch let problem as Problem {
                return .refuse(problem, nil)
            } catch {
                return .refuse(Problem.unauthorized("The access token is not valid."), nil)
            }
        }
        let (plan, suspended) = tenant(of: identity)
        if let suspended { return suspended }
        let checks = LimitPolicy.checks(
            route: request.route, keys: identity.map(LimitPolicy.CallerKeys.init), plan: plan,
            ipKey: request.clientIP.flatMap { request.route.limits.ipPerMinute == nil ? nil : LimitPolicy.ipKey(request.route, $0) })
        let outcome = await limits.evaluate(checks, route: request.route, plan: plan)
        return conclude(request, identity: identity, plan: plan, outcome: outcome)
    }

    private func refuseBeforeToken(_ request: RequestFacts) -> Verdict? {
        if let length = request.contentLength, length > request.route.maxBodyBytes {
            return .refuse(Self.bodyTooLarge(request.route), nil)
        }
        if !request.route.isPublic, request.bearer == nil {
            return .refuse(Problem.unauthorized("A bearer access token is required."), nil)
        }
        return nil
    }

    private func tenant(of identity: Identity?) -> (Plan, Verdict?) {
        guard let identity else { return (.free, nil) }
        let entry = tenants.entry(identity.tenantID)
        return (
            entry.plan,
            entry.suspended ? .refuse(Problem.forbidden("This tenant is suspended."), Admission(identity: identity, plan: entry.plan)) : nil
        )
    }

    private func conclude(_ request: RequestFacts, identity: Identity?, plan: Plan, outcome: LimitPolicy.Outcome) -> Verdict {
        if let tenant = identity?.tenantID { usage.record(tenant, limited: outcome.refused) }
        if outcome.shadowed {
            logger.info(
                "rate limit would refuse (shadow mode)",
                metadata: ["route": "\(request.route.prefix)", "scope": "\(outcome.binding?.0.scope.rawValue ?? "")"])
        }
        if outcome.refused, let (check, decision) = outcome.binding {
            let problem = Problem.tooManyRequests(
                "The \(check.scope) rate limit is exhausted.", retryAfter: Int(decision.retryAfterSeconds.rounded(.up)))
            return .refuse(problem, Admission(identity: identity, plan: plan, limits: outcome))
        }
        return .admit(Admission(identity: identity, plan: plan, limits: outcome))
    }

    static func bodyTooLarge(_ route: Route) -> Problem {
        Problem(status: .contentTooLarge, detail: "The request body exceeds \(route.maxBodyBytes) bytes for this route.")
    }
}
