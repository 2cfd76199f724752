import Foundation

/// What every service reads at start-up. Service-specific settings live in the
/// service's own configuration type, which embeds this one.
public struct ServiceConfiguration: Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var kafkaBrokers: String
    /// Where to fetch the signing keys of access tokens (the auth service's JWKS).
    public var jwksURL: String
    public var tokenIssuer: String
    public var tokenAudience: String
    public var logLevel: String

    public init(
        name: String, host: String = "127.0.0.1", port: Int, databaseURL: String, kafkaBrokers: String,
        jwksURL: String, tokenIssuer: String = "http://127.0.0.1:8080", tokenAudience: String = "platform",
        logLevel: String = "info"
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.kafkaBrokers = kafkaBrokers
        self.jwksURL = jwksURL
        self.tokenIssuer = tokenIssuer
        self.tokenAudience = tokenAudience
        self.logLevel = logLevel
    }

    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `KAFKA_BROKERS`, `JWKS_URL`, `TOKEN_ISSUER`,
    /// `TOKEN_AUDIENCE` and `LOG_LEVEL`.
    public static func fromEnvironment(name: String, defaultPort: Int, _ env: Environment = Environment()) throws -> Self {
        let database = try env.string("DATABASE_URL")
        guard let url = URL(string: database), url.scheme == "postgres" || url.scheme == "postgresql", url.host != nil else {
            throw ConfigurationError(variable: "DATABASE_URL", problem: "must look like postgres://user:password@host:port/database")
        }
        return Self(
            name: name,
            host: try env.string("HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: defaultPort, range: 0...65535),
            databaseURL: database,
            kafkaBrokers: try env.string("KAFKA_BROKERS", default: "127.0.0.1:9092"),
            jwksURL: try env.url("JWKS_URL", default: "http://127.0.0.1:8081/.well-known/jwks.json").absoluteString,
            tokenIssuer: try env.string("TOKEN_ISSUER", default: "http://127.0.0.1:8080"),
            tokenAudience: try env.string("TOKEN_AUDIENCE", default: "platform"),
            logLevel: try env.string("LOG_LEVEL", default: "info")
        )
    }
}
