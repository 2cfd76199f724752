import Foundation
import ServiceKit

struct GatewayConfiguration: Sendable {
    var host: String
    var port: Int
    var routesFile: String
    /// Set: keys are read from here. Empty: from the `jwks_uri` of `discoveryURL`.
    var jwksURL: String
    var tokenIssuer: String
    var tokenAudience: String
    var logLevel: String
    /// Where `auth.tenant.v1` is read from; empty runs without the tenant feed (every
    /// tenant then counts as an active free tenant).
    var kafkaBrokers: String = ""
    /// Browser origins of the admin console and apps allowed by CORS (exact match).
    var corsOrigins: Set<String> = []
    /// Proxies in front of the gateway (a load balancer, an ingress) that append to
    /// `X-Forwarded-For`: the client is that many hops from the end. 0 = the TCP peer.
    var trustedProxyHops = 0
    /// The auth service's OpenID Connect discovery document.
    var discoveryURL = "http://127.0.0.1:8081/.well-known/openid-configuration"
    /// How long SIGTERM drains (readiness fails, answers close their connections, all is
    /// still served) before the listener stops accepting.
    var shutdownDrain: Duration = .seconds(5)

    /// `HOST`, `PORT` (8080), `GATEWAY_ROUTES_FILE`, `AUTH_DISCOVERY_URL` or `JWKS_URL`, `TOKEN_ISSUER`,
    /// `TOKEN_AUDIENCE`, `LOG_LEVEL`, `KAFKA_BROKERS`, `GATEWAY_CORS_ORIGINS` (comma-separated),
    /// `GATEWAY_TRUSTED_PROXY_HOPS`, `SHUTDOWN_DRAIN_SECONDS`.
    static func fromEnvironment(_ env: Environment = Environment()) throws -> Self {
        Self(
            host: try env.string("HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: 8080, range: 0...65535),
            routesFile: try env.string("GATEWAY_ROUTES_FILE", default: "infra/gateway/routes.json"),
            jwksURL: env.optionalString("JWKS_URL") == nil ? "" : try env.url("JWKS_URL").absoluteString,
            tokenIssuer: try env.string("TOKEN_ISSUER", default: "http://127.0.0.1:8080"),
            tokenAudience: try env.string("TOKEN_AUDIENCE", default: "platform"),
            logLevel: try env.string("LOG_LEVEL", default: "info"),
            // Set but empty: no tenant feed (benchmarks, a gateway without Kafka).
            kafkaBrokers: env.values["KAFKA_BROKERS"] ?? "127.0.0.1:9092",
            corsOrigins: Set(
                (env.optionalString("GATEWAY_CORS_ORIGINS") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }),
            trustedProxyHops: try env.int("GATEWAY_TRUSTED_PROXY_HOPS", default: 0, range: 0...5),
            discoveryURL: try env.url("AUTH_DISCOVERY_URL", default: "http://127.0.0.1:8081/.well-known/openid-configuration").absoluteString,
            shutdownDrain: .seconds(try env.int("SHUTDOWN_DRAIN_SECONDS", default: 5, range: 0...120))
        )
    }
}
