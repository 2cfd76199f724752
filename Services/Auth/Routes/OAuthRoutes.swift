import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// Social login: `/v1/auth/oauth/{provider}/authorize` and `/callback`, the SPA's
/// `/v1/auth/oauth/exchange`, and `/v1/auth/identities`.
///
/// The browser carries only the `state`, in the redirect and in a short-lived HttpOnly
/// cookie that binds it to this browser; nonce and PKCE verifier stay on the server.
struct OAuthRoutes: Sendable {
    static let cookie = "oauth_state"
    let providers: [String: OAuthProviderClient]
    let identities: IdentityStore
    let tenants: TenantStore
    let accounts: AccountStore
    let signIn: SignIn
    let audit: AuditLog
    let publicURL: String
    let allowedRedirectURIs: [String]

    struct ExchangeInput: Decodable {
        var code: String
        var redirectUri: String
    }

    func add(to router: Router<ServiceRequestContext>, authenticated: RouterGroup<ServiceRequestContext>) {
        router.get("v1/auth/oauth/:provider/authorize") { request, context in try await authorize(request, context) }
        router.get("v1/auth/oauth/:provider/callback") { request, context in
            try await callback(request.queryItems, request, context)
        }
        // Apple answers with form_post.
        router.post("v1/auth/oauth/:provider/callback") { request, context in
            let body = try await request.body.collect(upTo: 64 * 1024)
            return try await callback(try FormBody.parse(String(buffer: body)), request, context)
        }
        router.post("v1/auth/oauth/exchange") { request, context in try await exchange(request, context) }
        authenticated.get("v1/auth/identities") { _, context in
            guard let userID = try context.requireIdentity().userID else { throw Problem.forbidden("Only users have identities.") }
            return Page(items: try await identities.identities(of: userID), nextCursor: nil)
        }
        authenticated.delete("v1/auth/identities/:provider") { request, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            guard let userID = identity.userID else { throw Problem.forbidden("Only users have identities.") }
            let provider = context.parameters.get("provider") ?? ""
            switch try await identities.unlink(userID: userID, provider: provider) {
            case .notLinked: throw Problem.notFound("No \(provider) identity is linked to this account.")
            case .lastWayIn: throw Problem.conflict("This is the account's only way to sign in; set a password first.")
            case .unlinked:
                try await audit.record(request.actor(context).entry("identity.unlinked", tenant: identity.tenantID, details: ["provider": provider]))
                return .noContent
            }
        }
    }

    func provider(_ context: ServiceRequestContext) throws -> OAuthProviderClient {
        guard let name = context.parameters.get("provider"), let provider = providers[name] else {
            throw Problem.notFound("This social-login provider is not configured.")
        }
        return provider
    }

    func callbackURL(_ provider: OAuthProviderClient) -> String {
        "\(publicURL.trimmingSuffix("/"))/v1/auth/oauth/\(provider.name)/callback"
    }

    func authorize(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let provider = try provider(context)
        let query = request.queryItems
        guard let redirectURI = query["redirect_uri"], !redirectURI.isEmpty else {
            throw Problem.validation([.init(field: "redirect_uri", message: "is required")])
        }
        var tenant: TenantDetails?
        if let wanted = query["tenant"], !wanted.isEmpty {
            tenant = try await tenants.find(wanted)
            guard tenant != nil else { throw Problem.validation([.init(field: "tenant", message: "names no tenant")]) }
        }
        let allowed = allowedRedirectURIs + (tenant?.settings.allowedRedirectUris ?? [])
        guard allowed.contains(redirectURI) else {
            throw Problem.validation([.init(field: "redirect_uri", message: "is not on the allowlist")])
        }
        let pending = try await identities.begin(provider: provider.name, redirectURI: redirectURI, tenantID: tenant?.id)
        let location = try await provider.authorizationURL(
            callback: callbackURL(provider), state: pending.state, nonce: pending.nonce, codeChallenge: pending.codeChallenge)
        var response = Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        response.headers[.setCookie] = cookie(pending.state, maxAge: IdentityStore.requestLifetime)
        return response
    }

    /// Cross-site form posts (Apple) carry only `SameSite=None` cookies, which must be
    /// `Secure`; over plain http (development) the cookie is `Lax`.
    func cookie(_ value: String, maxAge: Int) -> String {
        let secure = publicURL.hasPrefix("https://")
        return "\(Self.cookie)=\(value); Path=/v1/auth/oauth; Max-Age=\(maxAge); HttpOnly" + (secure ? "; Secure; SameSite=None" : "; SameSite=Lax")
    }

    func callback(_ fields: [String: String], _ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let provider = try provider(context)
        guard let state = fields["state"], !state.isEmpty else { throw Problem.badRequest("The state is missing.") }
        guard let bound = Self.cookieValue(request, Self.cookie), OAuthProviderClient.constantTimeEqual(bound, state) else {
            throw Problem.badRequest("The state does not belong to this browser; start the sign-in again.")
        }
        guard let pending = try await identities.take(state: state, provider: provider.name) else {
            throw Problem.badRequest("The sign-in request is unknown, used or expired; start again.")
        }
        let actor = request.actor(context)
        func fail(_ error: String, _ reason: String) async throws -> Response {
            try await audit.record(
                actor.entry(
                    "login.social_failed", tenant: pending.tenantID, result: .failure, details: ["provider": provider.name, "reason": reason]))
            return redirect(pending.redirectURI, ["error": error])
        }
        if let error = fields["error"] { return try await fail(error == "access_denied" ? error : "provider_error", error) }
        guard let code = fields["code"], !code.isEmpty else { return try await fail("invalid_request", "no code") }
        let profile: ProviderProfile
        do {
            profile = try await provider.profile(
                code: code, codeVerifier: pending.codeVerifier, callback: callbackURL(provider), nonce: pending.nonce)
        } catch let failure as OAuthFailure {
            context.logger.warning("social login refused", metadata: ["provider": "\(provider.name)", "reason": "\(failure)"])
            return try await fail("login_failed", failure.description)
        }
        switch try await identities.resolve(profile, provider: provider.name) {
        case .refused(let reason):
            return try await fail("account_exists", reason)
        case .user(let userID):
            let code = try await identities.issueCode(userID: userID, tenantID: pending.tenantID, redirectURI: pending.redirectURI)
            return redirect(pending.redirectURI, ["code": code.text])
        }
    }

    func redirect(_ base: String, _ parameters: [String: String]) -> Response {
        var components = URLComponents(string: base)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        var response = Response(status: .found, headers: [.location: components?.string ?? base, .cacheControl: "no-store"])
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    static func cookieValue(_ request: Request, _ name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    func exchange(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(ExchangeInput.self, context: context)
        guard let (userID, tenantID) = try await identities.redeem(code: input.code, redirectURI: input.redirectUri) else {
            throw Problem.badRequest("The code is invalid, used, expired or was issued for another redirect URI.")
        }
        guard let credentials = try await accounts.credentials(userID: userID) else { throw Problem.unauthorized("The account no longer exists.") }
        let memberships = try await accounts.memberships(of: userID)
        let membership: Membership
        if let tenantID {
            guard let match = memberships.first(where: { $0.tenant.id == tenantID }) else {
                throw Problem.forbidden("This account is not a member of the tenant the sign-in started from.")
            }
            membership = match
        } else {
            membership = try signIn.choose(memberships, wanted: nil, otherwise: Problem.unauthorized("This account belongs to no tenant."))
        }
        return try await signIn.afterFirstFactor(
            user: credentials.user, mfaEnabled: credentials.mfaEnabled, membership: membership,
            actor: Actor(subject: userID.uuidString.lowercased(), ip: request.clientIP(context)), method: "social", request: request, context: context
        )
    }
}
