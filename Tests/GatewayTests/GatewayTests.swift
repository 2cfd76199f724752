import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import Gateway

@Suite("route table")
struct RouteTableTests {
    @Test("the longest matching prefix wins, on path-segment boundaries")
    func longestPrefix() throws {
        let table = try RouteTable.parse(
            Data(
                """
                {"routes": [{"prefix": "/v1/auth", "upstream": "http://a:1", "public": true},
                            {"prefix": "/v1/auth/me", "upstream": "http://b:1"}]}
                """.utf8))
        #expect(table.match("/v1/auth/login")?.upstream == "http://a:1")
        #expect(table.match("/v1/auth/me")?.upstream == "http://b:1")
        #expect(table.match("/v1/auth/me")?.isPublic == false)
        #expect(table.match("/v1/authority") == nil)
        #expect(table.match("/v1") == nil)
    }

    @Test("an invalid entry is refused with its index and prefix")
    func invalid() {
        #expect {
            try RouteTable.parse(
                Data(#"{"routes": [{"prefix": "/ok", "upstream": "http://a:1"}, {"prefix": "nope", "upstream": "http://a:1"}]}"#.utf8))
        } throws: { "\($0)".contains("route 1 (nope)") }
        #expect(throws: RouteTableError.self) { try RouteTable.parse(Data(#"{"routes": [{"prefix": "/x", "upstream": "ftp://a"}]}"#.utf8)) }
        #expect(throws: RouteTableError.self) { try RouteTable.parse(Data("[]".utf8)) }
    }

    @Test("the development route table in infra/ is valid")
    func shippedTable() throws {
        let table = try RouteTable.load(path: TestEnvironment.root.appendingPathComponent("infra/gateway/routes.json").path)
        #expect(table.match("/v1/auth/signup")?.isPublic == true)
        #expect(table.match("/v1/auth/me")?.isPublic == false)
        #expect(table.match("/v1/tasks/123")?.isPublic == false)
    }
}

@Suite("gateway proxy")
struct GatewayProxyTests {
    @Test("a public route is forwarded without a token, with forwarding headers and the request id")
    func forwardsPublic() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let answer = try await TestHTTP.send("GET", "\(url)/public/echo/a?x=1", headers: ["X-Request-ID": "req-42"])
        #expect(answer.status == 200)
        #expect(answer.string("path") == "/public/echo/a?x=1")
        #expect(answer.string("h:x-request-id") == "req-42")
        #expect(answer.string("h:x-forwarded-for") == "127.0.0.1")
        #expect(answer.string("h:traceparent")?.hasPrefix("00-") == true)
        #expect(answer.headers["x-request-id"] == "req-42")
    }

    @Test("pipelined requests on one connection are answered in order, a refusal among them too")
    func pipelined() async throws {
        let requests =
            "GET /public/echo/first HTTP/1.1\r\nHost: a\r\n\r\n"
            + "GET /private/refused HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /public/echo/third HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        let received = try await GatewayHarness.rawExchange(requests)
        #expect(GatewayHarness.statuses(received) == ["200", "401", "200"])
        let first = try #require(received.range(of: "/public/echo/first"))
        let third = try #require(received.range(of: "/public/echo/third"))
        #expect(first.lowerBound < third.lowerBound)
        #expect(received.contains("\"bytes\":\"5\""))
    }

    @Test("a request with both Content-Length and Transfer-Encoding is refused with 400 and its connection closed")
    func smugglingRefused() async throws {
        // Read by length, the second request would hide in the first one's body; read as
        // chunks, it would be a request of its own. Either reading is refused.
        let received = try await GatewayHarness.rawExchange(
            "POST /public/echo/first HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + "GET /public/echo/hidden HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(GatewayHarness.statuses(received) == ["400"])
        #expect(received.contains("application/problem+json"))
        #expect(!received.contains("/public/echo/"))
    }

    @Test(
        "a request whose Connection names its own framing is refused, on a public and a private route, and poisons nothing",
        arguments: ["/public", "/private"])
    func connectionNamedFramingRefused(_ prefix: String) async throws {
        let (_, issuer) = try await GatewayHarness.shared.get()
        let token = try await issuer.token(tenant: .v7())
        let probe = UUID().uuidString.lowercased()
        // Dropping the length would send the body up as a second request that never passed
        // the gateway; that one's own body never arrives, so the next client's request would
        // become it.
        let hidden = "GET \(prefix)/echo/hidden-\(probe) HTTP/1.1\r\nHost: a\r\nContent-Length: 400\r\n\r\n"
        let received = try await GatewayHarness.rawExchange(
            "POST \(prefix)/echo/smuggler-\(probe) HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n"
                + "Connection: content-length\r\nContent-Length: \(hidden.utf8.count)\r\n\r\n" + hidden)
        #expect(GatewayHarness.statuses(received) == ["400"])
        #expect(received.contains("Connection may not name content-length."))
        // A second client on the same upstream gets its own answer.
        let second = try await GatewayHarness.rawExchange(
            "GET \(prefix)/echo/second-\(probe) HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
        #expect(GatewayHarness.statuses(second) == ["200"])
        #expect(second.contains("\"path\":\"\(prefix)/echo/second-\(probe)\""))
        #expect(await Relay.shared.count("seen:\(prefix)/echo/second-\(probe)") == 1)
        #expect(await Relay.shared.count("seen:\(prefix)/echo/smuggler-\(probe)") == 0)
        #expect(await Relay.shared.count("seen:\(prefix)/echo/hidden-\(probe)") == 0)
    }

    @Test("a chunked upload with extensions and trailers reaches the upstream whole")
    func chunkedUpload() async throws {
        let received = try await GatewayHarness.rawExchange(
            "POST /public/echo/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        #expect(GatewayHarness.statuses(received) == ["200"])
        #expect(received.contains("\"bytes\":\"11\""))
    }

    @Test("an answer to HEAD has no body, and the next request on the connection is read from the right byte")
    func headThenGet() async throws {
        let received = try await GatewayHarness.rawExchange(
            "HEAD /public/echo/head HTTP/1.1\r\nHost: a\r\n\r\nGET /public/echo/after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let statuses = GatewayHarness.statuses(received)
        #expect(statuses.count == 2)
        #expect(statuses.last == "200")
        #expect(received.contains("/public/echo/after"))
        #expect(!received.contains("/public/echo/head"))
    }

    @Test("the gateway's own answer to HEAD has no body, so the next pipelined answer is read from the right byte")
    func headRefused() async throws {
        let received = try await GatewayHarness.rawExchange(
            "HEAD /private/echo/a HTTP/1.1\r\nHost: a\r\n\r\nGET /public/echo/after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        #expect(GatewayHarness.statuses(received) == ["401", "200"])
        #expect(!received.contains("bearer access token is required"))
        #expect(received.contains("/public/echo/after"))
    }

    @Test("an answer still streaming at the route's timeout is cut off by closing the connection, once")
    func timeoutMidAnswer() async throws {
        _ = try await GatewayHarness.shared.get()
        let started = ContinuousClock.now
        // rawExchange returns when the gateway closes the connection. The route allows 3 s
        // (the answer's head must get through first, on a machine busy with the whole suite);
        // the upstream stalls for 10.
        let received = try await GatewayHarness.rawExchange("GET /stall HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(GatewayHarness.statuses(received) == ["200"])
        #expect(received.contains("first"))
        #expect(!received.contains("late"))
    }

    @Test("an HTTP/1.0 request is answered and its connection then closed")
    func http10() async throws {
        // rawExchange returns only once the gateway closes the connection.
        let received = try await GatewayHarness.rawExchange("GET /public/echo/old HTTP/1.0\r\n\r\n")
        #expect(GatewayHarness.statuses(received) == ["200"])
        #expect(received.contains("/public/echo/old"))
    }

    @Test("a malformed request head is answered 400 problem+json, never forwarded")
    func malformedHead() async throws {
        let received = try await GatewayHarness.rawExchange("GET /public/echo/x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n")
        #expect(GatewayHarness.statuses(received) == ["400"])
        #expect(received.contains("Folded field lines are not accepted."))
    }

    @Test("identity headers a client sets are stripped before the upstream sees them")
    func stripsIdentityHeaders() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        let answer = try await TestHTTP.send("GET", "\(url)/public/echo/a", headers: ["X-Tenant-ID": "evil", "X-User-ID": "root"])
        #expect(answer.string("h:x-tenant-id") == nil)
        #expect(answer.string("h:x-user-id") == nil)
    }

    @Test("a private route needs a valid token: none, forged or alg none answer 401 problem+json")
    func privateRoutes() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let token = try await issuer.token(tenant: .v7())
        #expect(try await TestHTTP.send("GET", "\(url)/private/echo/a", token: token).status == 200)
        let none = try await TestHTTP.send("GET", "\(url)/private/echo/a")
        #expect(none.status == 401)
        #expect(none.contentType == "application/problem+json")
        let parts = token.split(separator: ".")
        let algNone = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLString + "." + parts[1] + "."
        #expect(try await TestHTTP.send("GET", "\(url)/private/echo/a", token: algNone).status == 401)
        let forged = parts[0] + "." + parts[1] + "." + Data(repeating: 7, count: 64).base64URLString
        #expect(try await TestHTTP.send("GET", "\(url)/private/echo/a", token: String(forged)).status == 401)
        #expect(try await TestHTTP.send("GET", "\(url)/private/echo/a", token: try await issuer.token(tenant: .v7(), expiresIn: -300)).status == 401)
    }

    @Test("request bodies reach the upstream intact")
    func body() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let payload = String(repeating: "abcdefghij", count: 50_000)
        let answer = try await TestHTTP.send(
            "POST", "\(url)/private/echo/upload", json: ["data": payload], token: try await issuer.token(tenant: .v7()))
        #expect(answer.status == 200)
        #expect(Int(answer.string("bytes") ?? "") ?? 0 > payload.count)
    }

    @Test("an unknown path answers 404, a down upstream 502, a slow one 504, all problem+json")
    func failures() async throws {
        let (url, issuer) = try await GatewayHarness.shared.get()
        let unknown = try await TestHTTP.send("GET", "\(url)/nowhere")
        #expect(unknown.status == 404)
        #expect(unknown.contentType == "application/problem+json")
        let down = try await TestHTTP.send("GET", "\(url)/down/x")
        #expect(down.status == 502)
        #expect(down.contentType == "application/problem+json")
        let slow = try await TestHTTP.send("GET", "\(url)/slowpoke", token: try await issuer.token(tenant: .v7()))
        #expect(slow.status == 504)
    }

    @Test("the gateway answers its own health and readiness")
    func health() async throws {
        let (url, _) = try await GatewayHarness.shared.get()
        #expect(try await TestHTTP.send("GET", "\(url)/healthz").status == 200)
        #expect(try await TestHTTP.send("GET", "\(url)/readyz").status == 200)
    }
}
