import Foundation
import ServiceKit
import Testing

@testable import Auth

@Suite("auth configuration")
struct AuthConfigurationTests {
    static let base = [
        "DATABASE_URL": "postgres://svc_auth:svc_auth@127.0.0.1:5433/platform",
        "AUTH_KEY_ENCRYPTION_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
        "AUTH_REFRESH_TOKEN_SECRET": Data(repeating: 2, count: 32).base64EncodedString(),
    ]

    @Test("social-login providers are on exactly when their client id is set, with the real issuers by default")
    func providers() throws {
        var values = Self.base
        values["AUTH_OAUTH_GOOGLE_CLIENT_ID"] = "g"
        values["AUTH_OAUTH_GITHUB_CLIENT_ID"] = "h"
        let configuration = try AuthConfiguration.fromEnvironment(Environment(values))
        #expect(configuration.oauthProviders.map(\.name) == ["google", "github"])
        guard case .openID(let issuer) = configuration.oauthProviders[0].kind else {
            Issue.record("google is an OpenID provider")
            return
        }
        #expect(issuer == "https://accounts.google.com")
    }

    @Test("an https issuer with the development operator password refuses to start, naming the variable")
    func productionOperator() throws {
        var values = Self.base
        values["TOKEN_ISSUER"] = "https://api.example.com"
        #expect(throws: ConfigurationError.self) { try AuthConfiguration.fromEnvironment(Environment(values)) }
        values["PLATFORM_OPERATOR_PASSWORD"] = "a real secret from the vault"
        #expect(try AuthConfiguration.fromEnvironment(Environment(values)).operatorPassword == "a real secret from the vault")
    }

    @Test("a key-encryption key of the wrong length is refused")
    func badKey() {
        var values = Self.base
        values["AUTH_KEY_ENCRYPTION_KEY"] = Data(repeating: 1, count: 16).base64EncodedString()
        #expect(throws: ConfigurationError.self) { try AuthConfiguration.fromEnvironment(Environment(values)) }
    }

    @Test("trusted proxies default to loopback, take the gateway's blocks, and refuse nonsense naming the variable")
    func trustedProxies() throws {
        var values = Self.base
        #expect(try AuthConfiguration.fromEnvironment(Environment(values)).trustedProxies == ForwardedClient.blocks("127.0.0.0/8,::1"))
        values["AUTH_TRUSTED_PROXIES"] = "10.0.0.0/8, fd00::/8"
        #expect(try AuthConfiguration.fromEnvironment(Environment(values)).trustedProxies.count == 2)
        values["AUTH_TRUSTED_PROXIES"] = "the gateway"
        #expect(throws: ConfigurationError.self) { try AuthConfiguration.fromEnvironment(Environment(values)) }
    }
}
