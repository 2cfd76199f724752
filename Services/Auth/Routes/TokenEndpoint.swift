import Foundation
import Hummingbird
import ServiceKit

/// `POST /v1/auth/token`: the OAuth 2.0 token endpoint (RFC 6749 §3.2), form-encoded.
/// `client_credentials` for API clients (credentials by HTTP Basic or in the form),
/// `refresh_token` for users. Errors are problem details carrying the RFC 6749 `error`.
struct TokenEndpoint: Sendable {
    let clients: APIClientStore
    let issuer: TokenIssuer
    let sessions: SessionRoutes
    let audit: AuditLog

    struct TokenAnswer: ResponseEncodable {
        var access_token: String
        var token_type = "Bearer"
        var expires_in: Int
        var scope: String?
        var refresh_token: String?
    }

    func add(to router: Router<ServiceRequestContext>) {
        router.post("v1/auth/token") { request, context in try await token(request, context) }
    }

    func token(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw Problem.oauth(.badRequest, "invalid_request", "The token endpoint takes application/x-www-form-urlencoded.")
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let form = try FormBody.parse(String(buffer: body))
        var answer: TokenAnswer
        switch form["grant_type"] {
        case "client_credentials":
            answer = try await clientCredentials(form, request, context)
        case "refresh_token":
            guard let refresh = form["refresh_token"] else { throw Problem.oauth(.badRequest, "invalid_request", "refresh_token is required.") }
            do {
                let pair = try await sessions.rotate(refresh, actor: request.actor(context), logger: context.logger)
                answer = TokenAnswer(access_token: pair.accessToken, expires_in: pair.expiresIn, refresh_token: pair.refreshToken)
            } catch let problem as Problem where problem.statusCode == 401 {
                throw Problem.oauth(.badRequest, "invalid_grant", problem.detail ?? "The refresh token is invalid.")
            }
        case nil:
            throw Problem.oauth(.badRequest, "invalid_request", "grant_type is required.")
        case let other?:
            throw Problem.oauth(.badRequest, "unsupported_grant_type", "\(other) is not supported; use client_credentials or refresh_token.")
        }
        var response = try answer.response(from: request, context: context)
        // RFC 6749 §5.1: token responses must not be cached.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func clientCredentials(_ form: [String: String], _ request: Request, _ context: ServiceRequestContext) async throws -> TokenAnswer {
        guard let (clientID, secret) = Self.basicCredentials(request) ?? form["client_id"].flatMap({ id in form["client_secret"].map { (id, $0) } })
        else {
            throw Problem.oauth(.unauthorized, "invalid_client", "Client authentication is required.")
        }
        guard clientID.count <= 200, secret.count <= 200, let client = try await clients.authenticate(clientID: clientID, secret: secret) else {
            throw Problem.oauth(.unauthorized, "invalid_client", "Unknown client or wrong secret.")
        }
        guard client.tenant.status == "active" else { throw Problem.oauth(.badRequest, "unauthorized_client", "This tenant is suspended.") }
        var scopes = client.scopes
        if let requested = form["scope"]?.split(separator: " ").map(String.init), !requested.isEmpty {
            let unknown = requested.filter { !client.scopes.contains($0) }
            guard unknown.isEmpty else {
                throw Problem.oauth(.badRequest, "invalid_scope", "The client does not hold: \(unknown.joined(separator: " ")).")
            }
            scopes = requested
        }
        let scope = scopes.joined(separator: " ")
        let access = try await issuer.issue(subject: client.clientID, tenantID: client.tenant.id, roles: [], scope: scope)
        try await audit.record(
            Actor(subject: client.clientID, ip: request.clientIP(context)).entry(
                "api_client.token_issued", tenant: client.tenant.id, target: "client:\(client.clientID)", details: ["scope": scope]))
        return TokenAnswer(access_token: access.token, expires_in: access.expiresIn, scope: scope)
    }

    /// RFC 6749 §2.3.1: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
    static func basicCredentials(_ request: Request) -> (String, String)? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (FormBody.decode(String(text[..<colon])), FormBody.decode(String(text[text.index(after: colon)...])))
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5): `+` is a space, then percent-decoding.
enum FormBody {
    /// A NUL in a decoded name or value is refused (400).
    static func parse(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let (name, value) = (decode(String(parts[0])), parts.count > 1 ? decode(String(parts[1])) : "")
            try NULCharacter.refuse(in: name + value, where: "form")
            fields[name] = value
        }
        return fields
    }

    static func decode(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
