import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import NIOCore
import ServiceKit
import Synchronization

/// What a provider told us about the person who signed in.
struct ProviderProfile: Sendable, Equatable {
    var subject: String
    var email: String?
    var emailVerified: Bool
    var name: String?
}

enum OAuthFailure: Error, CustomStringConvertible {
    case provider(String)
    case idToken(String)

    var description: String {
        switch self {
        case .provider(let reason): "provider: \(reason)"
        case .idToken(let reason): "ID token: \(reason)"
        }
    }
}

/// Talks to one provider: builds the authorization URL, exchanges the code (with the PKCE
/// verifier) and, for OpenID providers, verifies the ID token against the provider's JWKS.
final class OAuthProviderClient: Sendable {
    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
    }

    /// Algorithms a provider's ID token may use; never `none`, never HMAC with a public key.
    static let acceptedAlgorithms: Set<String> = ["RS256", "ES256", "PS256"]

    let configuration: OAuthProviderConfiguration
    private let discovered = Mutex<Discovery?>(nil)
    private let keys = Mutex<(collection: JWTKeyCollection, fetchedAt: Date)?>(nil)

    init(_ configuration: OAuthProviderConfiguration) {
        self.configuration = configuration
    }

    var name: String { configuration.name }

    func discovery(issuer: String) async throws -> Discovery {
        if let cached = discovered.withLock({ $0 }) { return cached }
        let document: Discovery = try await Self.getJSON(issuer.trimmingSuffix("/") + "/.well-known/openid-configuration")
        discovered.withLock { $0 = document }
        return document
    }

    func authorizationURL(callback: String, state: String, nonce: String, codeChallenge: String) async throws -> String {
        let endpoint: String
        var items: [URLQueryItem] = [
            .init(name: "response_type", value: "code"), .init(name: "client_id", value: configuration.clientID),
            .init(name: "redirect_uri", value: callback), .init(name: "scope", value: configuration.scopes),
            .init(name: "state", value: state), .init(name: "code_challenge", value: codeChallenge),
            .init(name: "code_challenge_method", value: "S256"),
        ]
        switch configuration.kind {
        case .openID(let issuer):
            endpoint = try await discovery(issuer: issuer).authorization_endpoint
            items.append(.init(name: "nonce", value: nonce))
            // Apple returns name and email only with form_post (to our callback's POST route).
            if configuration.name == "apple" { items.append(.init(name: "response_mode", value: "form_post")) }
        case .github(let authorizeURL, _, _):
            endpoint = authorizeURL
        }
        guard var components = URLComponents(string: endpoint) else { throw OAuthFailure.provider("bad authorization endpoint") }
        components.queryItems = (components.queryItems ?? []) + items
        // `+` is literal in URLComponents' query; providers read it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.string else { throw OAuthFailure.provider("bad authorization endpoint") }
        return url
    }

    /// Exchanges the authorization code and answers who signed in.
    func profile(code: String, codeVerifier: String, callback: String, nonce: String) async throws -> ProviderProfile {
        var secret = configuration.clientSecret
        if let apple = configuration.apple { secret = try await AppleClientSecret.make(clientID: configuration.clientID, signing: apple) }
        var form = [
            "grant_type": "authorization_code", "code": code, "redirect_uri": callback, "client_id": configuration.clientID,
            "code_verifier": codeVerifier,
        ]
        form["client_secret"] = secret
        switch configuration.kind {
        case .openID(let issuer):
            let document = try await discovery(issuer: issuer)
            let tokens: TokenAnswer = try await Self.postForm(document.token_endpoint, form)
            guard let idToken = tokens.id_token else { throw OAuthFailure.provider("no id_token in the token response") }
            return try await verify(idToken: idToken, document: document, nonce: nonce)
        case .github(_, let tokenURL, let apiURL):
            let tokens: TokenAnswer = try await Self.postForm(tokenURL, form)
            guard let access = tokens.access_token else { throw OAuthFailure.provider(tokens.error ?? "no access_token") }
            return try await githubProfile(apiURL: apiURL, accessToken: access)
        }
    }

    struct TokenAnswer: Decodable {
        var access_token: String?
        var id_token: String?
        var error: String?
    }

    func verify(idToken: String, document: Discovery, nonce: String) async throws -> ProviderProfile {
        let header = try Self.header(of: idToken)
        guard let algorithm = header.alg, Self.acceptedAlgorithms.contains(algorithm) else {
            throw OAuthFailure.idToken("algorithm \(header.alg ?? "none") is not accepted")
        }
        let claims: IDTokenClaims
        do {
            claims = try await collection(document, refresh: false).verify(idToken, as: IDTokenClaims.self)
        } catch {
            // Perhaps the provider rotated its keys: refetch (rate-limited) and try once more.
            do {
                claims = try await collection(document, refresh: true).verify(idToken, as: IDTokenClaims.self)
            } catch {
                throw OAuthFailure.idToken("signature or expiry: \(error)")
            }
        }
        // Microsoft's multi-tenant issuer names the user's tenant: {tenantid} in the template.
        let expectedIssuer = document.issuer.replacingOccurrences(of: "{tenantid}", with: claims.tid ?? "")
        guard claims.iss.value == expectedIssuer else { throw OAuthFailure.idToken("issuer \(claims.iss.value)") }
        guard claims.aud.value.contains(configuration.clientID) else { throw OAuthFailure.idToken("audience") }
        guard let tokenNonce = claims.nonce, Self.constantTimeEqual(tokenNonce, nonce) else { throw OAuthFailure.idToken("nonce") }
        return ProviderProfile(
            subject: claims.sub.value, email: claims.email, emailVerified: claims.email_verified?.value ?? false, name: claims.name)
    }

    /// The provider's keys, cached for ten minutes; `refresh` refetches them, at most once
    /// a minute, so junk tokens cannot make us hammer the provider.
    func collection(_ document: Discovery, refresh: Bool) async throws -> JWTKeyCollection {
        if let cached = keys.withLock({ $0 }) {
            let age = Date().timeIntervalSince(cached.fetchedAt)
            if (!refresh && age < 600) || (refresh && age < 60) { return cached.collection }
        }
        let jwks: JWKS = try await Self.getJSON(document.jwks_uri)
        let collection = JWTKeyCollection()
        // Tokens without a `kid` (some providers, the local test provider) use the first key.
        for (index, jwk) in jwks.keys.enumerated() { try await collection.add(jwk: jwk, isDefault: index == 0) }
        keys.withLock { $0 = (collection, Date()) }
        return collection
    }

    struct GitHubUser: Decodable {
        var id: Int
        var login: String
        var name: String?
    }

    struct GitHubEmail: Decodable {
        var email: String
        var primary: Bool
        var verified: Bool
    }

    func githubProfile(apiURL: String, accessToken: String) async throws -> ProviderProfile {
        let user: GitHubUser = try await Self.getJSON(apiURL + "/user", bearer: accessToken)
        let emails: [GitHubEmail] = try await Self.getJSON(apiURL + "/user/emails", bearer: accessToken)
        let chosen = emails.first { $0.primary && $0.verified } ?? emails.first { $0.verified }
        return ProviderProfile(subject: String(user.id), email: chosen?.email, emailVerified: chosen != nil, name: user.name ?? user.login)
    }

    struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    static func header(of token: String) throws -> Header {
        guard let first = token.split(separator: ".").first, let data = Data(base64URL: String(first)) else {
            throw OAuthFailure.idToken("malformed")
        }
        return try JSONDecoder().decode(Header.self, from: data)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func getJSON<T: Decodable>(_ url: String, bearer: String? = nil) async throws -> T {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "platform-auth")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        return try await send(request)
    }

    static func postForm<T: Decodable>(_ url: String, _ fields: [String: String]) async throws -> T {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        return try await send(request)
    }

    /// Providers close idle keep-alive connections (uvicorn after 5 s, others later); a
    /// pooled connection reused just as it closes fails the request, so idle ones go first.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(2))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func send<T: Decodable>(_ request: HTTPClientRequest) async throws -> T {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            do {
                response = try await client.execute(request, timeout: .seconds(10))
            } catch let error as HTTPClientError where error == .remoteConnectionClosed {
                // Closed under us before an answer: once more on a fresh connection.
                response = try await client.execute(request, timeout: .seconds(10))
            } catch let error as ChannelError where error == .ioOnClosedChannel {
                response = try await client.execute(request, timeout: .seconds(10))
            }
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw OAuthFailure.provider("\(request.url) could not be reached: \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw OAuthFailure.provider("\(request.url) answered \(response.status.code): \(String(buffer: body).prefix(200))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw OAuthFailure.provider("\(request.url) answered unreadable JSON")
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
