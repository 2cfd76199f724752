import Foundation
import Hummingbird
import JWTKit
import ServiceKit
import Synchronization

/// Signs access tokens for tests of services other than auth, and serves its JWKS over
/// real HTTP, so services verify tokens exactly as they do in production.
public final class TestIssuer: Sendable {
    public let kid: String
    let key: ES256PrivateKey
    let keys = JWTKeyCollection()
    public let server: TestServer

    public var jwksURL: String { "\(server.baseURL)/.well-known/jwks.json" }
    public var discoveryURL: String { "\(server.baseURL)/.well-known/openid-configuration" }

    public static func start() async throws -> TestIssuer {
        let key = ES256PrivateKey()
        let kid = "test-" + UUID().uuidString.prefix(8).lowercased()
        guard let parameters = key.publicKey.parameters else { throw IssuerError.noParameters }
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        let counter = Counter()
        let server = try await TestServer.start { onRunning in
            let router = Router()
            router.get(".well-known/jwks.json") { _, _ in
                counter.value.wrappingAdd(1, ordering: .relaxed)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jwks)))
            }
            router.get(".well-known/openid-configuration") { request, _ in
                let base = "http://\(request.head.authority ?? "127.0.0.1")"
                let document = #"{"issuer":"\#(TestEnvironment.issuer)","jwks_uri":"\#(base)/.well-known/jwks.json"}"#
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document)))
            }
            return Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: TestEnvironment.logger)
        }
        let issuer = TestIssuer(kid: kid, key: key, server: server, counter: counter)
        await issuer.keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return issuer
    }

    init(kid: String, key: ES256PrivateKey, server: TestServer, counter: Counter) {
        self.kid = kid
        self.key = key
        self.server = server
        self.counterBox = counter
    }

    let counterBox: Counter
    /// How many times the JWKS was fetched.
    public var jwksFetches: Int { counterBox.value.load(ordering: .relaxed) }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// A signed access token for a user of `tenant` with `roles`.
    public func token(
        tenant: UUID, subject: UUID = .v7(), roles: [String] = ["owner"], scope: String = "", expiresIn: TimeInterval = 300,
        issuer: String = TestEnvironment.issuer, audience: String = TestEnvironment.audience
    ) async throws -> String {
        let now = Date()
        let claims = AccessClaims(
            issuer: issuer, audience: audience, subject: subject.uuidString.lowercased(), tenantID: tenant, roles: roles, scope: scope,
            issuedAt: now, expiresAt: now.addingTimeInterval(expiresIn), id: UUID().uuidString)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// An API client's token (client credentials): its subject is the client id, it has
    /// no roles, only `scope`.
    public func clientToken(tenant: UUID, scope: String, clientID: String = "cli_test") async throws -> String {
        let now = Date()
        let claims = AccessClaims(
            issuer: TestEnvironment.issuer, audience: TestEnvironment.audience, subject: clientID, tenantID: tenant, roles: [], scope: scope,
            issuedAt: now, expiresAt: now.addingTimeInterval(300), id: UUID().uuidString)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// Signs any claims with this issuer's key.
    public func sign(_ claims: AccessClaims) async throws -> String {
        try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    enum IssuerError: Error { case noParameters }
}
