import Foundation
import TestSupport
import Testing

/// Drives the authorization-code flow against the local OpenID provider without a browser.
struct SocialLogin {
    var subject = "user-\(UUID().uuidString.prefix(8).lowercased())"
    var email = uniqueEmail()
    var emailVerified = true

    /// The local provider (a Python server) may close a kept-alive connection just as the
    /// client reuses it (CI saw `remoteConnectionClosed` once): its requests use one
    /// connection each.
    static let oneConnection = ["Connection": "close"]

    /// Sets the provider's claims for `subject`.
    func register() async throws {
        let answer = try await TestHTTP.send(
            "PUT", "\(TestEnvironment.oidcIssuer)/users/\(subject)",
            json: ["email": email, "email_verified": emailVerified, "name": "Social \(subject)"], headers: Self.oneConnection)
        #expect(answer.status == 204 || answer.status == 200)
    }

    struct Started {
        var providerURL: String
        var cookie: String
    }

    func start(redirect: String = AuthServer.spaRedirect, tenant: String? = nil) async throws -> Started {
        var path = "/v1/auth/oauth/google/authorize?redirect_uri=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        if let tenant { path += "&tenant=\(tenant)" }
        let answer = try await TestHTTP.send("GET", "\(try await AuthServer.shared.url())\(path)", followRedirects: false)
        #expect(answer.status == 302)
        let cookie = try #require(answer.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        return Started(providerURL: try #require(answer.headers["location"]), cookie: cookie)
    }

    /// Signs in at the provider (its form, posted directly); answers our callback URL.
    func approve(_ providerURL: String) async throws -> String {
        let answer = try await TestHTTP.send(
            "POST", providerURL, raw: "sub=\(subject)",
            headers: Self.oneConnection.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 }, followRedirects: false)
        #expect(answer.status == 302)
        let location = try #require(answer.headers["location"])
        // The callback URL names the public issuer; the test reaches auth directly.
        return location.replacingOccurrences(of: TestEnvironment.issuer, with: try await AuthServer.shared.url())
    }

    func callback(_ url: String, cookie: String) async throws -> HTTPAnswer {
        try await TestHTTP.send("GET", url, headers: ["Cookie": cookie], followRedirects: false)
    }

    /// The query items of our final redirect to the SPA.
    static func spaParameters(_ answer: HTTPAnswer) throws -> [String: String] {
        #expect(answer.status == 302)
        let location = try #require(answer.headers["location"])
        #expect(location.hasPrefix(AuthServer.spaRedirect))
        var result: [String: String] = [:]
        for item in URLComponents(string: location)?.queryItems ?? [] { result[item.name] = item.value }
        return result
    }

    func exchange(_ code: String) async throws -> HTTPAnswer {
        try await auth("POST", "/v1/auth/oauth/exchange", json: ["code": code, "redirectUri": AuthServer.spaRedirect])
    }

    /// The whole flow; answers our token response.
    func signIn() async throws -> HTTPAnswer {
        let started = try await start()
        let callback = try await callback(try await approve(started.providerURL), cookie: started.cookie)
        let code = try #require(try Self.spaParameters(callback)["code"])
        return try await exchange(code)
    }
}

@Suite("social login")
struct OAuthTests {
    @Test("the authorize redirect carries state, nonce and an S256 PKCE challenge, and binds the state to a cookie")
    func authorizeRedirect() async throws {
        let started = try await SocialLogin().start()
        let items = Dictionary(uniqueKeysWithValues: (URLComponents(string: started.providerURL)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["code_challenge_method"] == "S256")
        #expect(items["code_challenge"]?.count == 43)
        #expect(items["nonce"]?.isEmpty == false)
        #expect(items["client_id"] == "platform-test")
        #expect(started.cookie == "oauth_state=\(items["state"] ?? "-")")
    }

    @Test("a new user signs in with the provider: a verified account with a tenant of its own, identity listed")
    func newUser() async throws {
        let login = SocialLogin()
        try await login.register()
        let tokens = try await login.signIn()
        #expect(tokens.status == 200)
        #expect(tokens.json["roles"] as? [String] == ["owner"])
        let user = try #require(tokens.json["user"] as? [String: Any])
        #expect(user["email"] as? String == login.email)
        #expect(user["emailVerified"] as? Bool == true)
        let listed = try await auth("GET", "/v1/auth/identities", token: tokens.string("accessToken"))
        #expect((listed.json["items"] as? [[String: Any]])?.first?["subject"] as? String == login.subject)
        // Signing in again finds the same user through the linked identity.
        let again = try await login.signIn()
        #expect((again.json["user"] as? [String: Any])?["id"] as? String == user["id"] as? String)
    }

    @Test("a verified provider email links to an existing verified user")
    func linksVerified() async throws {
        let owner = try await Session.owner()
        #expect(
            try await auth("POST", "/v1/auth/email/verify", json: ["token": try await mailedToken("auth.verify_email", to: owner.email)]).status
                == 204)
        let login = SocialLogin(email: owner.email)
        try await login.register()
        let tokens = try await login.signIn()
        #expect(tokens.status == 200)
        #expect(((tokens.json["user"] as? [String: Any])?["id"] as? String)?.lowercased() == owner.userID)
    }

    @Test("an unverified email never links: not a provider's unverified one, not to an unverified user")
    func unverifiedNeverLinks() async throws {
        let owner = try await Session.owner()
        let login = SocialLogin(email: owner.email)
        try await login.register()
        let started = try await login.start()
        let callback = try await login.callback(try await login.approve(started.providerURL), cookie: started.cookie)
        let parameters = try SocialLogin.spaParameters(callback)
        #expect(parameters["error"] == "account_exists")
        #expect(parameters["code"] == nil)
    }

    @Test("a wrong state, or a state without its cookie, is refused")
    func wrongState() async throws {
        let login = SocialLogin()
        try await login.register()
        let started = try await login.start()
        let callbackURL = try await login.approve(started.providerURL)
        #expect(try await login.callback(callbackURL, cookie: "oauth_state=forged").status == 400)
        #expect(try await TestHTTP.send("GET", callbackURL, followRedirects: false).status == 400)
        let tampered = callbackURL.replacingOccurrences(of: "state=", with: "state=x")
        #expect(try await login.callback(tampered, cookie: started.cookie).status == 400)
    }

    @Test("an ID token with a different nonce is refused")
    func wrongNonce() async throws {
        let login = SocialLogin()
        try await login.register()
        let started = try await login.start()
        var components = try #require(URLComponents(string: started.providerURL))
        components.queryItems = components.queryItems?.map { $0.name == "nonce" ? URLQueryItem(name: "nonce", value: "replayed-nonce") : $0 }
        let callback = try await login.callback(try await login.approve(try #require(components.string)), cookie: started.cookie)
        #expect(try SocialLogin.spaParameters(callback)["error"] == "login_failed")
    }

    @Test("a replayed provider code, a replayed state and a replayed exchange code are refused")
    func replays() async throws {
        let login = SocialLogin()
        try await login.register()
        let first = try await login.start()
        let callbackURL = try await login.approve(first.providerURL)
        let code = try #require(try SocialLogin.spaParameters(try await login.callback(callbackURL, cookie: first.cookie))["code"])
        // The same state again.
        #expect(try await login.callback(callbackURL, cookie: first.cookie).status == 400)
        // The provider's code again, under a fresh state.
        let second = try await login.start()
        let providerCode = try #require(URLComponents(string: callbackURL)?.queryItems?.first { $0.name == "code" }?.value)
        let secondState = try #require(URLComponents(string: second.providerURL)?.queryItems?.first { $0.name == "state" }?.value)
        let base = try await AuthServer.shared.url()
        let replayed = try await login.callback(
            "\(base)/v1/auth/oauth/google/callback?code=\(providerCode)&state=\(secondState)", cookie: second.cookie)
        #expect(try SocialLogin.spaParameters(replayed)["error"] == "login_failed")
        // Our one-time code: once.
        #expect(try await login.exchange(code).status == 200)
        #expect(try await login.exchange(code).status == 400)
    }

    @Test("a redirect URI off the allowlist, an unknown provider and an unknown tenant are refused")
    func refusals() async throws {
        let base = try await AuthServer.shared.url()
        let evil = try await TestHTTP.send(
            "GET", "\(base)/v1/auth/oauth/google/authorize?redirect_uri=https%3A%2F%2Fevil.example%2Fcb", followRedirects: false)
        #expect(evil.status == 422)
        #expect(try await TestHTTP.send("GET", "\(base)/v1/auth/oauth/myspace/authorize?redirect_uri=x", followRedirects: false).status == 404)
        let noTenant = try await TestHTTP.send(
            "GET", "\(base)/v1/auth/oauth/google/authorize?redirect_uri=\(AuthServer.spaRedirect)&tenant=no-such-tenant-here", followRedirects: false)
        #expect(noTenant.status == 422)
        #expect(try await auth("POST", "/v1/auth/oauth/exchange", json: ["code": 1]).status == 422)
    }

    @Test("a tenant's own allowlisted redirect URI works for sign-ins started for that tenant")
    func tenantRedirect() async throws {
        let owner = try await Session.owner()
        let redirect = "https://app.example.com/cb-\(UUID().uuidString.prefix(6))"
        let set = try await auth(
            "PATCH", "/v1/platform/tenants/\(owner.tenantID)", json: ["settings": ["allowedRedirectUris": [redirect]]],
            token: try await operatorToken())
        #expect(set.status == 200)
        let base = try await AuthServer.shared.url()
        let encoded = redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(
            try await TestHTTP.send(
                "GET", "\(base)/v1/auth/oauth/google/authorize?redirect_uri=\(encoded)&tenant=\(owner.tenantSlug)", followRedirects: false
            ).status == 302)
        #expect(
            try await TestHTTP.send("GET", "\(base)/v1/auth/oauth/google/authorize?redirect_uri=\(encoded)", followRedirects: false).status == 422)
    }

    @Test("the only identity of a password-less account cannot be unlinked")
    func unlink() async throws {
        let login = SocialLogin()
        try await login.register()
        let token = try #require(try await login.signIn().string("accessToken"))
        #expect(try await auth("DELETE", "/v1/auth/identities/google", token: token).status == 409)
        #expect(try await auth("DELETE", "/v1/auth/identities/github", token: token).status == 404)
    }
}
