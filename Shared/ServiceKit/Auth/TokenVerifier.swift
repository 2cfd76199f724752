import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import Metrics
import NIOCore
import Synchronization

/// Verifies ES256 access tokens against a JWKS. Keys are cached by `kid`; a token with
/// an unknown `kid` triggers at most one refetch per `refetchInterval`, so a flood of
/// junk `kid`s cannot hammer the key server, and cached keys keep working while it is down.
public final class TokenVerifier: Sendable {
    public static let leeway: TimeInterval = 30
    public typealias JWKSSource = @Sendable () async throws -> String

    let source: JWKSSource
    let issuer: String
    let audience: String
    let refetchInterval: Duration
    private let state = Mutex<State>(State())
    let logger: Logger
    /// Tokens already verified, by SHA-256 of the whole token, until they expire: a
    /// client sends the same token many times, and ES256 verification is the costliest
    /// step of a request.
    private let verified = Mutex<[SHA256Digest: (identity: Identity, expires: Date)]>([:])
    static let maxVerified = 50_000

    struct State {
        /// Replaced whole by a refresh, never emptied and refilled: a verification running
        /// meanwhile sees the old set or the new one, and a refresh that fails keeps the old.
        var keys = JWTKeyCollection()
        var knownKeyIDs: Set<String> = []
        var lastFetch: ContinuousClock.Instant?
        var inFlight: Task<Void, Never>?
    }

    public init(issuer: String, audience: String, refetchInterval: Duration = .seconds(5), logger: Logger, source: @escaping JWKSSource) {
        self.issuer = issuer
        self.audience = audience
        self.source = source
        self.refetchInterval = refetchInterval
        self.logger = logger
    }

    /// A verifier fetching the JWKS from a URL (normally the auth service's).
    public convenience init(jwksURL: String, issuer: String, audience: String, logger: Logger, httpClient: HTTPClient = .shared) {
        self.init(issuer: issuer, audience: audience, logger: logger) { try await Self.get(jwksURL, httpClient) }
    }

    /// A verifier that finds the JWKS through OpenID Connect Discovery (§4): the
    /// document's `jwks_uri`, re-read on every refresh so a moved key set is followed.
    /// The document's `issuer` must be the one tokens are checked against (§4.3).
    public convenience init(discoveryURL: String, issuer: String, audience: String, logger: Logger, httpClient: HTTPClient = .shared) {
        self.init(issuer: issuer, audience: audience, logger: logger) {
            let document = try JSONDecoder().decode(DiscoveryDocument.self, from: Data(try await Self.get(discoveryURL, httpClient).utf8))
            guard document.issuer == issuer else { throw DiscoveryMismatch(expected: issuer, found: document.issuer) }
            return try await Self.get(document.jwks_uri, httpClient)
        }
    }

    struct DiscoveryDocument: Decodable {
        var issuer: String
        var jwks_uri: String
    }

    struct DiscoveryMismatch: Error, CustomStringConvertible {
        let expected: String
        let found: String
        var description: String { "discovery document names issuer \(found), tokens are checked against \(expected)" }
    }

    static func get(_ url: String, _ httpClient: HTTPClient) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { throw JWKSFetchError(status: Int(response.status.code)) }
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    struct JWKSFetchError: Error { let status: Int }

    public func verify(_ token: String) async throws -> Identity {
        if let identity = cachedIdentity(token) { return identity }
        let digest = SHA256.hash(data: Data(token.utf8))
        let now = Date()
        let (identity, expires) = try await verifySignature(token)
        verified.withLock { cache in
            if cache.count >= Self.maxVerified { cache = cache.filter { $0.value.expires > now } }
            if cache.count >= Self.maxVerified { cache.removeAll(keepingCapacity: true) }
            cache[digest] = (identity, expires)
        }
        return identity
    }

    /// The identity of a token verified before and not yet expired, without waiting:
    /// what a caller on an event loop needs for the common case.
    public func cachedIdentity(_ token: String) -> Identity? {
        cachedEntry(token)?.identity
    }

    /// `cachedIdentity` with the moment the token expires, for callers that keep the
    /// identity themselves (the gateway, per connection) and must stop using it then.
    public func cachedEntry(_ token: String) -> (identity: Identity, expires: Date)? {
        let digest = SHA256.hash(data: Data(token.utf8))
        guard let hit = verified.withLock({ $0[digest] }), hit.expires > Date() else { return nil }
        return hit
    }

    private func verifySignature(_ token: String) async throws -> (Identity, Date) {
        guard let header = Self.header(of: token) else { throw Problem.unauthorized("The access token is malformed.") }
        // RFC 8725 §3.1: accept only the algorithm we issue; never `none`, never HMAC.
        guard header.alg == "ES256" else { throw Problem.unauthorized("The access token uses an algorithm that is not accepted.") }
        guard let kid = header.kid else { throw Problem.unauthorized("The access token names no key.") }
        if !state.withLock({ $0.knownKeyIDs.contains(kid) }) {
            await refreshKeys()
            guard state.withLock({ $0.knownKeyIDs.contains(kid) }) else {
                throw Problem.unauthorized("The access token was signed by an unknown key.")
            }
        }
        let claims: AccessClaims
        do {
            claims = try await state.withLock { $0.keys }.verify(token, as: AccessClaims.self)
        } catch {
            throw Problem.unauthorized("The access token is invalid or expired.")
        }
        guard claims.iss.value == issuer, claims.aud.value.contains(audience) else {
            throw Problem.unauthorized("The access token is not meant for this platform.")
        }
        guard claims.iat.value <= Date().addingTimeInterval(Self.leeway) else {
            throw Problem.unauthorized("The access token is issued in the future.")
        }
        guard let tenant = UUID(uuidString: claims.tid) else { throw Problem.unauthorized("The access token names no tenant.") }
        let identity = Identity(
            subject: claims.sub.value, tenantID: tenant, roles: claims.roles,
            scopes: claims.scope.split(separator: " ").map(String.init), tokenID: claims.jti.value
        )
        // Cached until expiry as the JWT library checks it (with the same leeway).
        return (identity, claims.exp.value.addingTimeInterval(Self.leeway))
    }

    /// True once a key set has been loaded.
    public var hasKeys: Bool { state.withLock { !$0.knownKeyIDs.isEmpty } }

    /// Loads the key set now (at start-up, and after an unknown `kid`, rate-limited).
    /// Single-flight: callers arriving while a fetch is under way wait for that fetch
    /// instead of being turned away by the rate limit with the old key set.
    public func refreshKeys() async {
        let now = ContinuousClock.now
        let fetch: Task<Void, Never>? = state.withLock { state in
            if let inFlight = state.inFlight { return inFlight }
            if let last = state.lastFetch, now - last < refetchInterval { return nil }
            state.lastFetch = now
            let task = Task { await self.fetchKeys() }
            state.inFlight = task
            return task
        }
        await fetch?.value
    }

    private func fetchKeys() async {
        defer { state.withLock { $0.inFlight = nil } }
        Counter(label: "jwks_refreshes_total").increment()
        do {
            let json = try await source()
            let set = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
            let fresh = JWTKeyCollection()
            _ = try await fresh.add(jwks: set)
            let ids = Set(set.keys.compactMap { $0.keyIdentifier?.string })
            state.withLock {
                $0.keys = fresh
                $0.knownKeyIDs = ids
            }
        } catch {
            logger.warning("could not refresh the JWKS; keeping cached keys", metadata: ["error": "\(error)"])
        }
    }

    struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    static func header(of token: String) -> Header? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URL: String(parts[0])) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }
}

extension Data {
    /// RFC 4648 §5 base64url without padding.
    public init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }

    public var base64URLString: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
