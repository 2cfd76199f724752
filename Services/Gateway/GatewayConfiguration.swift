import Foundation
import ServiceKit

struct GatewayConfiguration: Sendable {
    var host: String
    var port: Int
    var routesFile: String
    var jwksURL: String
    var tokenIssuer: String
    var tokenAudience: String
    var logLevel: String

    /// `HOST`, `PORT` (8080), `GATEWAY_ROUTES_FILE`, `JWKS_URL`, `TOKEN_ISSUER`, `TOKEN_AUDIENCE`, `LOG_LEVEL`.
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        Self(
            host: try env.string("HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: 8080, range: 0...65535),
            routesFile: try env.string("GATEWAY_ROUTES_FILE", default: "infra/gateway/routes.json"),
            jwksURL: try env.url("JWKS_URL", default: "http://127.0.0.1:8081/.well-known/jwks.json").absoluteString,
            tokenIssuer: try env.string("TOKEN_ISSUER", default: "http://127.0.0.1:8080"),
            tokenAudience: try env.string("TOKEN_AUDIENCE", default: "platform"),
            logLevel: try env.string("LOG_LEVEL", default: "info")
        )
    }
}
