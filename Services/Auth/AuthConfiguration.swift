import Foundation
import ServiceKit

/// The auth service's settings on top of the common ones.
struct AuthConfiguration: Sendable {
    var service: ServiceConfiguration
    /// AES-256 key that seals signing keys and TOTP secrets at rest (`AUTH_KEY_ENCRYPTION_KEY`, base64).
    var keyEncryptionKey: [UInt8]
    /// HMAC key from which a refresh token's successor is derived (`AUTH_REFRESH_TOKEN_SECRET`, base64).
    var refreshTokenSecret: [UInt8]
    var accessTokenLifetime: Int = 900
    var refreshIdleLifetime: Int = 30 * 24 * 3600
    var refreshAbsoluteLifetime: Int = 90 * 24 * 3600
    var refreshGraceSeconds: Int = 10
    var bcryptCost: UInt8 = 10
    /// How often each replica re-reads which signing key is active.
    var keyReloadSeconds: Int = 30
    var operatorEmail = "operator@example.com"
    var operatorPassword = "operator-password-dev"
    /// Where social login may send the browser back to, besides each tenant's own allowlist.
    var redirectURIs: [String] = []
    /// The base URL browsers reach auth at (through the gateway); providers redirect to
    /// `<publicURL>/v1/auth/oauth/<provider>/callback`. Defaults to the token issuer.
    var publicURL: String?
    var oauthProviders: [OAuthProviderConfiguration] = []
    /// Peers whose `X-Forwarded-For` is believed: the gateway's addresses
    /// (`AUTH_TRUSTED_PROXIES`, comma-separated blocks). Anyone else is taken as the client.
    var trustedProxies: [AddressBlock] = ForwardedClient.blocks("127.0.0.0/8,::1") ?? []

    static let developmentOperatorPassword = "operator-password-dev"

    static func trustedProxies(_ env: Environment) throws -> [AddressBlock] {
        let text = env.optionalString("AUTH_TRUSTED_PROXIES") ?? "127.0.0.0/8,::1"
        guard let blocks = ForwardedClient.blocks(text) else {
            throw ConfigurationError(variable: "AUTH_TRUSTED_PROXIES", problem: "must list addresses or blocks such as 10.0.0.0/8, comma-separated")
        }
        return blocks
    }

    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        let configuration = Self(
            service: try .fromEnvironment(name: "auth", defaultPort: 8081, env),
            keyEncryptionKey: try env.base64Bytes("AUTH_KEY_ENCRYPTION_KEY", count: 32),
            refreshTokenSecret: try env.base64Bytes("AUTH_REFRESH_TOKEN_SECRET", count: 32),
            accessTokenLifetime: try env.int("AUTH_ACCESS_TOKEN_SECONDS", default: 900, range: 60...900),
            refreshGraceSeconds: try env.int("AUTH_REFRESH_GRACE_SECONDS", default: 10, range: 0...120),
            bcryptCost: UInt8(try env.int("AUTH_BCRYPT_COST", default: 10, range: 10...16)),
            keyReloadSeconds: try env.int("AUTH_KEY_RELOAD_SECONDS", default: 30, range: 1...300),
            operatorEmail: try env.string("PLATFORM_OPERATOR_EMAIL", default: "operator@example.com"),
            operatorPassword: try env.string("PLATFORM_OPERATOR_PASSWORD", default: developmentOperatorPassword),
            redirectURIs: (env.optionalString("AUTH_OAUTH_REDIRECT_URIS") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            },
            publicURL: env.optionalString("AUTH_PUBLIC_URL"),
            oauthProviders: try OAuthProviderConfiguration.fromEnvironment(env),
            trustedProxies: try trustedProxies(env)
        )
        // An https issuer means a real deployment: the development operator password must not reach it.
        if configuration.service.tokenIssuer.hasPrefix("https://") && configuration.operatorPassword == developmentOperatorPassword {
            throw ConfigurationError(
                variable: "PLATFORM_OPERATOR_PASSWORD", problem: "must be set (the development default is refused with an https TOKEN_ISSUER)")
        }
        return configuration
    }
}
