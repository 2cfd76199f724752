import Foundation
import ServiceKit

/// One social-login provider, entirely from configuration, so tests and staging can point
/// it at a local OpenID provider. A provider is enabled when its client id is set:
/// `AUTH_OAUTH_<NAME>_CLIENT_ID`, `_CLIENT_SECRET`, `_ISSUER` (OpenID providers) or
/// `_AUTHORIZE_URL`, `_TOKEN_URL`, `_API_URL` (GitHub); Apple signs its client secret
/// from `AUTH_OAUTH_APPLE_TEAM_ID`, `_KEY_ID` and `_PRIVATE_KEY` (PEM).
struct OAuthProviderConfiguration: Sendable {
    enum Kind: Sendable {
        /// OpenID Connect: discovery document, ID token checked against the provider's JWKS.
        case openID(issuer: String)
        /// Plain OAuth 2.0 (GitHub): the user and verified emails come from its API.
        case github(authorizeURL: String, tokenURL: String, apiURL: String)
    }

    struct AppleSigning: Sendable {
        var teamID: String
        var keyID: String
        var privateKeyPEM: String
    }

    var name: String
    var kind: Kind
    var clientID: String
    var clientSecret: String?
    var apple: AppleSigning?

    static let names = ["google", "microsoft", "apple", "github"]
    static let defaultIssuers = [
        "google": "https://accounts.google.com",
        "microsoft": "https://login.microsoftonline.com/common/v2.0",
        "apple": "https://appleid.apple.com",
    ]

    var scopes: String {
        switch kind {
        case .openID: "openid email profile"
        case .github: "read:user user:email"
        }
    }

    static func fromEnvironment(_ env: Environment) throws -> [OAuthProviderConfiguration] {
        try names.compactMap { name in
            let prefix = "AUTH_OAUTH_\(name.uppercased())_"
            guard let clientID = env.optionalString(prefix + "CLIENT_ID"), !clientID.isEmpty else { return nil }
            let kind: Kind =
                if name == "github" {
                    .github(
                        authorizeURL: try env.string(prefix + "AUTHORIZE_URL", default: "https://github.com/login/oauth/authorize"),
                        tokenURL: try env.string(prefix + "TOKEN_URL", default: "https://github.com/login/oauth/access_token"),
                        apiURL: try env.string(prefix + "API_URL", default: "https://api.github.com"))
                } else {
                    .openID(issuer: try env.string(prefix + "ISSUER", default: defaultIssuers[name]))
                }
            var apple: AppleSigning?
            if name == "apple", let team = env.optionalString(prefix + "TEAM_ID") {
                apple = AppleSigning(teamID: team, keyID: try env.string(prefix + "KEY_ID"), privateKeyPEM: try env.string(prefix + "PRIVATE_KEY"))
            }
            return OAuthProviderConfiguration(
                name: name, kind: kind, clientID: clientID, clientSecret: env.optionalString(prefix + "CLIENT_SECRET"), apple: apple)
        }
    }
}
