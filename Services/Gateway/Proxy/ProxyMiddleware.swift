import AsyncHTTPClient
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ServiceKit

/// Forwards requests whose path matches the route table: body limit, token, tenant
/// status, rate limits, then an upstream chosen round-robin behind its breaker. Bodies
/// stream both ways. Paths that match no route fall through to the router (operational
/// routes, `/v1/admin/usage`, then 404 problem+json).
struct ProxyMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext

    let routes: LiveRouteTable
    let client: HTTPClient
    let verifier: TokenVerifier
    let tenants: TenantDirectory
    let limits: LimitPolicy
    let pool: UpstreamPool
    let usage: UsageCounters
    let accessLog: Logger
    var trustedProxyHops = 0

    /// RFC 9110 §7.6.1 hop-by-hop fields, plus identity headers a client must not set:
    /// upstreams learn the caller only from the verified token.
    static let dropped: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "x-tenant-id", "x-user-id", "x-user-roles", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host",
    ]
    static let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .put, .delete]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let route = routes.table.match(request.uri.path) else { return try await next(request, context) }
        let started = ContinuousClock.now
        var context = context
        var identity: Identity?
        var plan = Plan.free
        var status = 500
        var upstreamTime: Duration?
        defer { log(request, route: route, identity: identity, plan: plan, status: status, started: started, upstream: upstreamTime, context: context) }
        do {
            if let length = request.headers[.contentLength].flatMap(Int.init), length > route.maxBodyBytes {
                throw Problem(status: .contentTooLarge, detail: "The request body exceeds \(route.maxBodyBytes) bytes for this route.")
            }
            if !route.isPublic {
                guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                    throw Problem.unauthorized("A bearer access token is required.")
                }
                let verified = try await verifier.verify(String(header.dropFirst("bearer ".count)))
                identity = verified
                context.logger[metadataKey: "tenant_id"] = .string(verified.tenantID.uuidString.lowercased())
                let tenant = tenants.entry(verified.tenantID)
                plan = tenant.plan
                if tenant.suspended { throw Problem.forbidden("This tenant is suspended.") }
            }
            let clientIP = clientAddress(request, context)
            let outcome = await limits.evaluate(
                LimitPolicy.checks(route: route, identity: identity, plan: plan, clientIP: clientIP), route: route, plan: plan)
            if let tenant = identity?.tenantID { usage.record(tenant, limited: outcome.refused) }
            if outcome.shadowed {
                context.logger.info("rate limit would refuse (shadow mode)", metadata: ["route": "\(route.prefix)", "scope": "\(outcome.binding?.0.scope ?? "")"])
            }
            if outcome.refused, let (check, decision) = outcome.binding {
                let problem = Problem.tooManyRequests("The \(check.scope) rate limit is exhausted.", retryAfter: Int(decision.retryAfterSeconds.rounded(.up)))
                var response = try problem.response(from: request, context: context)
                stamp(&response, outcome)
                status = 429
                return response
            }
            let upstreamStart = ContinuousClock.now
            var response = try await forward(request, to: route, context: context)
            upstreamTime = ContinuousClock.now - upstreamStart
            stamp(&response, outcome)
            status = response.status.code
            return response
        } catch let problem as Problem {
            status = problem.statusCode
            throw problem
        }
    }

    /// The client: the TCP peer, or with trusted proxies in front, the address the
    /// outermost trusted proxy saw (that many entries from the end of X-Forwarded-For).
    func clientAddress(_ request: Request, _ context: Context) -> String? {
        let peer = context.remoteAddress?.ipAddress
        guard trustedProxyHops > 0, let name = HTTPField.Name("X-Forwarded-For") else { return peer }
        let hops = request.headers[values: name].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        guard hops.count >= trustedProxyHops else { return peer }
        return hops[hops.count - trustedProxyHops]
    }

    func stamp(_ response: inout Response, _ outcome: LimitPolicy.Outcome) {
        guard let binding = outcome.binding, let policy = HTTPField.Name("RateLimit-Policy"), let state = HTTPField.Name("RateLimit") else { return }
        let (policyValue, stateValue) = LimitPolicy.headers(binding)
        response.headers[policy] = policyValue
        response.headers[state] = stateValue
    }

    /// One JSON line per request; never the token.
    func log(_ request: Request, route: Route, identity: Identity?, plan: Plan, status: Int, started: ContinuousClock.Instant, upstream: Duration?, context: Context) {
        let total = ContinuousClock.now - started
        Counter(label: "gateway_requests_total", dimensions: [("route", route.prefix), ("status", String(status)), ("plan", plan.rawValue)]).increment()
        if let upstream {
            Timer(label: "gateway_upstream_duration", dimensions: [("route", route.prefix)]).recordNanoseconds(
                upstream.components.seconds * 1_000_000_000 + upstream.components.attoseconds / 1_000_000_000)
        }
        guard accessLog.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": .string(context.requestID), "route": .string(route.prefix), "method": .string(request.method.rawValue),
            "status": .stringConvertible(status), "total_ms": .stringConvertible(Self.milliseconds(total)),
        ]
        if let upstream { metadata["upstream_ms"] = .stringConvertible(Self.milliseconds(upstream)) }
        if let identity { metadata["tenant_id"] = .string(identity.tenantID.uuidString.lowercased()) }
        accessLog.info("access", metadata: metadata)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15).rounded() / 1
    }

    func forward(_ request: Request, to route: Route, context: Context) async throws -> Response {
        let now = Date().timeIntervalSince1970
        let candidates = pool.candidates(route.upstreams, now: now)
        guard !candidates.isEmpty else {
            var problem = Problem(status: .serviceUnavailable, detail: "The upstream service is failing; try again shortly.")
            problem.retryAfter = Int(pool.coolDown)
            throw problem
        }
        // Only idempotent requests without a body are retried, and only on connection failure.
        let hasBody = request.headers[.contentLength].flatMap(Int.init).map { $0 > 0 } ?? (request.headers[.transferEncoding] != nil)
        let attempts = Self.idempotent.contains(request.method) && !hasBody ? min(2, candidates.count) : 1
        for (index, upstream) in candidates.prefix(attempts).enumerated() {
            do {
                let answer = try await client.execute(makeRequest(request, upstream: upstream, route: route, context: context), timeout: .nanoseconds(route.timeout.components.seconds * 1_000_000_000))
                pool.record(upstream, success: ![502, 503, 504].contains(Int(answer.status.code)), now: Date().timeIntervalSince1970)
                return response(from: answer)
            } catch is BodyTooLarge {
                throw Problem(status: .contentTooLarge, detail: "The request body exceeds \(route.maxBodyBytes) bytes for this route.")
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                pool.record(upstream, success: false, now: Date().timeIntervalSince1970)
                throw Problem(status: .gatewayTimeout, detail: "The upstream service did not answer in time.")
            } catch {
                pool.record(upstream, success: false, now: Date().timeIntervalSince1970)
                context.logger.warning("upstream unreachable", metadata: ["upstream": "\(upstream)", "error": "\(error)"])
                if index == attempts - 1 { throw Problem(status: .badGateway, detail: "The upstream service is unavailable.") }
            }
        }
        throw Problem(status: .badGateway, detail: "The upstream service is unavailable.")
    }

    func makeRequest(_ request: Request, upstream: String, route: Route, context: Context) -> HTTPClientRequest {
        var outgoing = HTTPClientRequest(url: upstream + (request.uri.string.hasPrefix("/") ? request.uri.string : "/" + request.uri.string))
        outgoing.method = .init(rawValue: request.method.rawValue)
        let clientIP = context.remoteAddress?.ipAddress ?? ""
        for field in request.headers where !Self.dropped.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        // Appended, never trusted as given: services read the last hop as the client.
        let priorFor = request.headers[values: HTTPField.Name("X-Forwarded-For")!].joined(separator: ", ")
        outgoing.headers.replaceOrAdd(name: "X-Forwarded-For", value: priorFor.isEmpty ? clientIP : "\(priorFor), \(clientIP)")
        outgoing.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if let host = request.head.authority { outgoing.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host) }
        outgoing.headers.replaceOrAdd(name: "X-Request-ID", value: context.requestID)
        if request.headers[.traceparent] == nil { outgoing.headers.replaceOrAdd(name: "traceparent", value: TraceParent.make()) }

        // Attach a body only when the request has one: a streamed body on a GET goes out chunked.
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > 0 {
            outgoing.body = .stream(request.body, length: .known(Int64(length)))
        } else if length == nil, request.headers[.transferEncoding] != nil {
            outgoing.body = .stream(LimitedBody(base: request.body, limit: route.maxBodyBytes), length: .unknown)
        }
        return outgoing
    }

    func response(from upstream: HTTPClientResponse) -> Response {
        var headers = HTTPFields()
        for header in upstream.headers where !Self.dropped.contains(header.name.lowercased()) && header.name.lowercased() != "content-length" {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        if let length = upstream.headers.first(name: "content-length") { headers[.contentLength] = length }
        return Response(
            status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase), headers: headers,
            body: ResponseBody(asyncSequence: upstream.body))
    }
}

/// W3C Trace Context `traceparent` (§3.2) for requests that arrive without one.
enum TraceParent {
    static func make() -> String {
        func hex(_ count: Int) -> String { (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        return "00-\(hex(16))-\(hex(8))-01"
    }
}
