import AsyncHTTPClient
import Contracts
import Foundation
import Messaging
import NIOCore
import TestSupport
import Testing

@testable import Gateway

/// Publishes a tenant's state on auth.tenant.v1, as auth would.
func announce(_ tenant: UUID, status: String = "active", plan: String = "free", version: Int) async throws {
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "gateway-tests", logger: TestEnvironment.logger)
    let event = try EventEnvelope.make(
        TenantEvent(tenantId: tenant, name: "T", slug: "t-\(version)", status: status, plan: plan, version: version, occurredAt: Date()),
        type: status == "suspended" ? TenantEvent.suspended : TenantEvent.updated, on: Topics.authTenant, source: "/tests", tenantID: tenant)
    try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
    await producer.shutdown()
}

@Suite("gateway rate limits")
struct GatewayLimitTests {
    @Test("a tenant over its plan's limit gets 429 with Retry-After and RateLimit headers while another tenant is served")
    func tenantLimit() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let busy = UUID.v7()
        // A new user each time, so only the tenant's limit (free: burst 40) binds; 80 at
        // once, and again while none is refused: on a slow machine the allowance refills
        // while the first 80 are served.
        var answers: [HTTPAnswer] = []
        for _ in 0..<5 where !answers.contains(where: { $0.status == 429 }) {
            var tokens: [String] = []
            for _ in 0..<80 { tokens.append(try await issuer.token(tenant: busy)) }
            answers += try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for token in tokens { group.addTask { try await TestHTTP.send("GET", "\(url)/private/x", token: token) } }
                return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
            }
        }
        let statuses = answers.map(\.status)
        let refusal = answers.first { $0.status == 429 }
        #expect(statuses.filter { $0 == 200 }.count >= 40)
        let refused = try #require(refusal)
        #expect(refused.contentType == "application/problem+json")
        #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(refused.headers["ratelimit-policy"]?.hasPrefix("\"tenant\";q=40") == true)
        #expect(refused.headers["ratelimit"]?.contains("r=0") == true)
        let other = try await TestHTTP.send("GET", "\(url)/private/x", token: try await issuer.token(tenant: .v7()))
        #expect(other.status == 200)
        #expect(other.headers["ratelimit"] != nil)
    }

    @Test("one user is limited before their tenant is")
    func userLimit() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let token = try await issuer.token(tenant: .v7())
        var last = 0
        var policy: String?
        // Until refused: sequential requests outpace the user's 5/s however slow the machine.
        for _ in 0..<200 {
            let answer = try await TestHTTP.send("GET", "\(url)/private/x", token: token)
            last = answer.status
            policy = answer.headers["ratelimit-policy"]
            if last == 429 { break }
        }
        #expect(last == 429)
        #expect(policy?.hasPrefix("\"user\"") == true)
    }

    @Test("a strict route class limits a client IP on a public route")
    func ipLimit() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        var statuses: [Int] = []
        for _ in 0..<10 { statuses.append(try await TestHTTP.send("POST", "\(url)/login", json: ["x": 1]).status) }
        #expect(Array(statuses.prefix(3)) == [200, 200, 200])
        #expect(statuses.contains(429))
    }

    @Test("shadow mode never refuses, but its headers show the exhausted allowance")
    func shadow() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        var answers: [HTTPAnswer] = []
        for _ in 0..<8 { answers.append(try await TestHTTP.send("GET", "\(url)/shadow/x")) }
        #expect(answers.allSatisfy { $0.status == 200 })
        #expect(answers.last?.headers["ratelimit"]?.contains("r=0") == true)
    }
}

@Suite("gateway tenant state")
struct GatewayTenantTests {
    @Test("a suspended tenant is refused with 403 within seconds, and served again after reactivation")
    func suspension() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let tenant = UUID.v7()
        try await announce(tenant, status: "suspended", version: 2)
        let refused = try await eventually(timeout: .seconds(40)) {
            try await TestHTTP.send("GET", "\(url)/private/x", token: try await issuer.token(tenant: tenant)).status == 403
        }
        #expect(refused)
        try await announce(tenant, status: "active", version: 3)
        let served = try await eventually(timeout: .seconds(20)) {
            try await TestHTTP.send("GET", "\(url)/private/x", token: try await issuer.token(tenant: tenant)).status == 200
        }
        #expect(served)
        // An older event arriving late changes nothing.
        try await announce(tenant, status: "suspended", version: 1)
        try await Task.sleep(for: .seconds(2))
        #expect(try await TestHTTP.send("GET", "\(url)/private/x", token: try await issuer.token(tenant: tenant)).status == 200)
    }

    @Test("a plan change raises the tenant's limit, and /v1/admin/usage reports plan, limits and counts")
    func planAndUsage() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let tenant = UUID.v7()
        try await announce(tenant, plan: "enterprise", version: 2)
        let upgraded = try await eventually(timeout: .seconds(40)) {
            let answer = try await TestHTTP.send("GET", "\(url)/private/x", token: try await issuer.token(tenant: tenant))
            return answer.headers["ratelimit-policy"]?.contains("q=4000") == true || answer.headers["ratelimit-policy"]?.contains("q=800") == true
        }
        #expect(upgraded)
        let usage = try await TestHTTP.send("GET", "\(url)/v1/admin/usage", token: try await issuer.token(tenant: tenant, roles: ["admin"]))
        #expect(usage.status == 200)
        #expect(usage.string("plan") == "enterprise")
        #expect(((usage.json["usage"] as? [String: Any])?["requestsLastHour"] as? Int ?? 0) >= 1)
        #expect((usage.json["limits"] as? [String: Any])?["requestsPerSecond"] as? Int == 1000)
        #expect(
            try await TestHTTP.send("GET", "\(url)/v1/admin/usage", token: try await issuer.token(tenant: tenant, roles: ["member"])).status == 403)
        #expect(try await TestHTTP.send("GET", "\(url)/v1/admin/usage").status == 401)
    }
}

@Suite("gateway routing and resilience")
struct GatewayRoutingTests {
    @Test("a body over the route's limit answers 413, with or without Content-Length")
    func bodyLimit() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let token = try await issuer.token(tenant: .v7())
        let big = String(repeating: "x", count: 5000)
        let declared = try await TestHTTP.send("POST", "\(url)/small/x", raw: big, token: token)
        #expect(declared.status == 413)
        #expect(declared.contentType == "application/problem+json")
        #expect(try await TestHTTP.send("POST", "\(url)/small/x", raw: "tiny", token: token).status == 200)
        let chunked = try await TestHTTP.streamed("\(url)/small/x", chunks: 10, chunkSize: 500, token: token)
        #expect(chunked == 413)
    }

    @Test("a client still sending a refused body reads the whole 413 before the connection ends (no reset)")
    func refusedBodyLingers() async throws {
        let (_, issuer) = try await GatewayHarness.shared.get()
        let token = try await issuer.token(tenant: .v7())
        let chunk = String(repeating: "y", count: 1000)
        let body = String(repeating: "3e8\r\n\(chunk)\r\n", count: 400) + "0\r\n\r\n"
        let received = try await GatewayHarness.rawExchange(
            "POST /small/x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(GatewayHarness.statuses(received) == ["413"])
        #expect(received.contains("application/problem+json"))
        #expect(received.hasSuffix("}"))
    }

    @Test("a 50 MB upload streams through to the upstream")
    func largeUpload() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let status = try await TestHTTP.streamed("\(url)/upload/relay/bulk-\(UUID())", chunks: 800, chunkSize: 64 * 1024)
        #expect(status == 200)
    }

    @Test("an upload reaches the upstream while the client is still sending it (never buffered whole)")
    func uploadStreams() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let probe = UUID().uuidString
        let chunk = ByteBuffer(repeating: UInt8(ascii: "z"), count: 256 * 1024)
        let (body, writer) = AsyncStream<ByteBuffer>.makeStream()
        writer.yield(chunk)
        let firstArrived = Task {
            let arrived = await Relay.shared.wait("up:" + probe, seconds: 10)
            for _ in 0..<7 { writer.yield(chunk) }
            writer.finish()
            return arrived
        }
        var request = HTTPClientRequest(url: "\(url)/upload/relay/\(probe)")
        request.method = .POST
        request.body = .stream(body, length: .unknown)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let answer = try JSONSerialization.jsonObject(with: Data(buffer: try await response.body.collect(upTo: 1 << 20))) as? [String: Any]
        #expect(await firstArrived.value)
        #expect(response.status == .ok)
        #expect(answer?["bytes"] as? String == String(8 * 256 * 1024))
    }

    @Test("an answer reaches the client while the upstream is still sending it")
    func downloadStreams() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let probe = UUID().uuidString
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(url)/upload/relay/\(probe)"), timeout: .seconds(30))
        var received = ByteBuffer()
        for try await chunk in response.body {
            if received.readableBytes == 0 { await Relay.shared.fire("down:" + probe) }
            received.writeImmutableBuffer(chunk)
        }
        #expect(received.readableBytes == 64 * 1024 + 2)
        #expect(String(buffer: received).hasSuffix("ok"))
    }

    @Test("CORS: preflight from a console origin is answered here; other origins are refused; answers carry the allow header")
    func cors() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let preflight = try await TestHTTP.send(
            "OPTIONS", "\(url)/private/x",
            headers: [
                "Origin": GatewayHarness.consoleOrigin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization",
            ])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == GatewayHarness.consoleOrigin)
        #expect(preflight.headers["access-control-allow-methods"]?.contains("PATCH") == true)
        let stranger = try await TestHTTP.send(
            "OPTIONS", "\(url)/private/x", headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "GET"])
        #expect(stranger.status == 403)
        let error = try await TestHTTP.send("GET", "\(url)/private/x", headers: ["Origin": GatewayHarness.consoleOrigin])
        #expect(error.status == 401)
        #expect(error.headers["access-control-allow-origin"] == GatewayHarness.consoleOrigin)
        #expect(error.headers["access-control-expose-headers"]?.contains("RateLimit") == true)
    }

    @Test("several upstreams are used in turn, and a dead one is skipped by retrying idempotent requests")
    func roundRobin() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        var seen: Set<String> = []
        for _ in 0..<4 { seen.insert(try await TestHTTP.send("GET", "\(url)/pair/x").string("upstream") ?? "") }
        #expect(seen == ["a", "b"])
        for _ in 0..<6 { #expect(try await TestHTTP.send("GET", "\(url)/half-down/x").status == 200) }
    }

    @Test("an upstream that keeps failing opens its breaker: 502 first, then 503 with Retry-After")
    func breaker() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        var statuses: [Int] = []
        for _ in 0..<7 { statuses.append(try await TestHTTP.send("GET", "\(url)/breaker/x").status) }
        #expect(statuses.prefix(5).allSatisfy { $0 == 502 })
        #expect(statuses.last == 503)
        let metrics = String(decoding: try await TestHTTP.send("GET", "\(url)/metrics").body, as: UTF8.self)
        #expect(metrics.contains("gateway_breaker_open"))
        #expect(metrics.contains("gateway_requests_total"))
        #expect(metrics.contains("gateway_rate_limit_decisions_total"))
    }

    @Test("SIGHUP reloads the route table; an invalid table is refused and the old one kept")
    func reload() async throws {
        let running = try await GatewayHarness.shared.running()
        #expect(try await TestHTTP.send("GET", "\(running.url)/added/x").status == 404)
        let original = try String(contentsOf: running.routesFile, encoding: .utf8)
        let extended = original.replacingOccurrences(
            of: "\"routes\": [", with: "\"routes\": [\n  {\"prefix\": \"/added\", \"upstream\": \"\(running.upstreams[1])\", \"public\": true},")
        try extended.write(to: running.routesFile, atomically: true, encoding: .utf8)
        kill(getpid(), SIGHUP)
        #expect(try await eventually(timeout: .seconds(5)) { try await TestHTTP.send("GET", "\(running.url)/added/x").status == 200 })
        try "{ not json".write(to: running.routesFile, atomically: true, encoding: .utf8)
        kill(getpid(), SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await TestHTTP.send("GET", "\(running.url)/added/x").status == 200)
        try original.write(to: running.routesFile, atomically: true, encoding: .utf8)
        kill(getpid(), SIGHUP)
    }
}

@Suite("GCRA")
struct GCRATests {
    @Test("allows the burst at once, then one request per interval, and says when to retry")
    func arithmetic() {
        let limit = RateLimit(rate: 10, burst: 5)
        var tat: Double?
        var allowed = 0
        for _ in 0..<8 {
            let (decision, next) = GCRA.decide(tat: tat, limit: limit, now: 100)
            if decision.allowed { allowed += 1 }
            if let next { tat = next }
        }
        #expect(allowed == 5)
        let (refused, _) = GCRA.decide(tat: tat, limit: limit, now: 100)
        #expect(!refused.allowed)
        #expect(abs(refused.retryAfterSeconds - 0.1) < 1e-6)
        let (later, _) = GCRA.decide(tat: tat, limit: limit, now: 100.1)
        #expect(later.allowed)
    }

    @Test("a held cell limits like its key; once the key is swept the cell is retired and the key starts afresh")
    func heldCells() async {
        let limiter = LocalRateLimiter(shards: 1, sweepAbove: 2)
        let limit = RateLimit(rate: 1, burst: 2)
        let held = limiter.cell("a", now: 100)
        #expect(held.acquire(limit, now: 100).allowed)
        #expect(held.acquire(limit, now: 100).allowed)
        // The same key through the table shares the held cell's state.
        #expect(!limiter.acquireNow("a", limit, now: 100).allowed)
        #expect(!held.isRetired)
        // Long after, "a" is idle; a new key that fills the table sweeps it.
        _ = limiter.cell("b", now: 200)
        _ = limiter.cell("c", now: 200)
        #expect(held.isRetired)
        #expect(limiter.cell("a", now: 200) !== held)
        // Concurrent takers of one cell never get more than the burst between them.
        let shared = limiter.cell("d", now: 300)
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 { group.addTask { shared.acquire(RateLimit(rate: 0.001, burst: 10), now: 300).allowed } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(allowed == 10)
    }
}

@Suite("gateway token checks")
struct GatewayTokenTests {
    @Test("expired, wrong-audience and wrong-issuer tokens answer 401")
    func rejected() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let tenant = UUID.v7()
        for token in [
            try await issuer.token(tenant: tenant, expiresIn: -120), try await issuer.token(tenant: tenant, audience: "someone-else"),
            try await issuer.token(tenant: tenant, issuer: "https://evil.example"),
        ] {
            let answer = try await TestHTTP.send("GET", "\(url)/private/x", token: token)
            #expect(answer.status == 401)
            #expect(answer.contentType == "application/problem+json")
        }
    }

    @Test("tokens naming unknown keys make the gateway refetch the JWKS at most once per interval")
    func unknownKidThrottled() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let stranger = try await TestIssuer.start()
        let started = ContinuousClock.now
        _ = try await TestHTTP.send("GET", "\(url)/private/x", token: try await stranger.token(tenant: .v7()))
        let before = issuer.jwksFetches
        for _ in 0..<15 {
            #expect(try await TestHTTP.send("GET", "\(url)/private/x", token: try await stranger.token(tenant: .v7())).status == 401)
        }
        // One refetch per 5 s interval the requests spanned (a loaded machine can take longer than one).
        let intervals = Int((ContinuousClock.now - started) / .seconds(5))
        #expect(issuer.jwksFetches - before <= 1 + intervals)
    }

    @Test("with the key server down, cached keys keep verifying new tokens")
    func keyServerDown() async throws {
        let issuer = try await TestIssuer.start()
        let upstream = try await GatewayHarness.upstream(name: "solo")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try #"{"routes": [{"prefix": "/private", "upstream": "\#(upstream.baseURL)"}]}"#.write(to: file, atomically: true, encoding: .utf8)
        let configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: issuer.jwksURL, tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error")
        let gateway = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        #expect(try await TestHTTP.send("GET", "\(gateway.baseURL)/private/x", token: try await issuer.token(tenant: .v7())).status == 200)
        await issuer.server.stop()
        #expect(try await TestHTTP.send("GET", "\(gateway.baseURL)/private/x", token: try await issuer.token(tenant: .v7())).status == 200)
        await gateway.stop()
        await upstream.stop()
    }
}

@Suite("gateway behind a proxy")
struct GatewayTrustedProxyTests {
    @Test("with one trusted proxy in front, the client IP for limits is the last X-Forwarded-For entry")
    func clientFromForwardedFor() async throws {
        let upstream = try await GatewayHarness.upstream(name: "solo")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try #"""
        {"rateLimitClasses": {"login": {"ipPerMinute": 1, "ipBurst": 2}},
         "routes": [{"prefix": "/login", "upstream": "\#(upstream.baseURL)", "public": true, "rateLimitClass": "login"}]}
        """#.write(to: file, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: "http://127.0.0.1:9/jwks", tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error")
        configuration.trustedProxyHops = 1
        let gateway = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        func send(_ forwardedFor: String) async throws -> Int {
            try await TestHTTP.send("GET", "\(gateway.baseURL)/login", headers: ["X-Forwarded-For": forwardedFor]).status
        }
        #expect(try await send("9.9.9.9, 203.0.113.7") == 200)
        #expect(try await send("203.0.113.7") == 200)
        #expect(try await send("8.8.8.8, 203.0.113.7") == 429)
        #expect(try await send("203.0.113.8") == 200)
        await gateway.stop()
        await upstream.stop()
    }

    @Test(
        "services see the client the gateway decided on as the last X-Forwarded-For hop, not the proxy in front",
        arguments: [(0, "127.0.0.1"), (1, "203.0.113.7"), (2, "198.51.100.4")])
    func clientPassedOn(hops: Int, client: String) async throws {
        let upstream = try await GatewayHarness.upstream(name: "solo")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try #"{"routes": [{"prefix": "/public", "upstream": "\#(upstream.baseURL)", "public": true}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: "http://127.0.0.1:9/jwks", tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error")
        configuration.trustedProxyHops = hops
        let gateway = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        // "6.6.6.6" is forged by the client; the proxies in front appended the rest.
        let answer = try await TestHTTP.send(
            "GET", "\(gateway.baseURL)/public/who", headers: ["X-Forwarded-For": "6.6.6.6, 198.51.100.4, 203.0.113.7"])
        let forwarded = try #require(answer.string("h:x-forwarded-for"))
        #expect(forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces) == client)
        await gateway.stop()
        await upstream.stop()
    }
}
