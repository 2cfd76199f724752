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
    /// How the database connection is protected (`DATABASE_TLS`).
    public var databaseTLS: DatabaseTLS = .disable
    /// Apply the schema's migrations at start (`serve`); false when a Job runs `migrate`
    /// before the rollout (`serve --no-migrate`): the service then waits for them.
    public var migrateOnStart = true
    /// On SIGTERM, how long readiness fails while requests are still served, before the
    /// server stops accepting (`SHUTDOWN_DRAIN_SECONDS`): long enough for the load balancer
    /// (Kubernetes endpoints) and the gateway to move away.
    public var shutdownDrain: Duration = .seconds(5)

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
    /// `TOKEN_AUDIENCE`, `LOG_LEVEL` and `SHUTDOWN_DRAIN_SECONDS`.
    public static func fromEnvironment(name: String, defaultPort: Int, _ env: Environment = Environment()) throws -> Self {
        let database = try env.string("DATABASE_URL")
        guard let url = URL(string: database), url.scheme == "postgres" || url.scheme == "postgresql", url.host != nil else {
            throw ConfigurationError(variable: "DATABASE_URL", problem: "must look like postgres://user:password@host:port/database")
        }
        var configuration = Self(
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
        configuration.databaseTLS = try DatabaseTLS.fromEnvironment(env)
        configuration.shutdownDrain = .seconds(try env.int("SHUTDOWN_DRAIN_SECONDS", default: 5, range: 0...120))
        return configuration
    }
}

/// `DATABASE_TLS`: `disable` (the default, for PostgreSQL on loopback), `require` (encrypted,
/// the server's certificate not checked, as libpq's sslmode=require) or `verify-full`
/// (encrypted, certificate and host name checked against the system's roots, or against
/// `DATABASE_TLS_CA_FILE` for a private CA such as CloudNativePG's).
public enum DatabaseTLS: Sendable, Equatable {
    case disable
    case require
    case verifyFull(caFile: String?)

    static func fromEnvironment(_ env: Environment) throws -> Self {
        let caFile = env.optionalString("DATABASE_TLS_CA_FILE")
        switch try env.string("DATABASE_TLS", default: "disable") {
        case "disable": return .disable
        case "require": return .require
        case "verify-full":
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw ConfigurationError(variable: "DATABASE_TLS_CA_FILE", problem: "names no readable file")
            }
            return .verifyFull(caFile: caFile)
        default: throw ConfigurationError(variable: "DATABASE_TLS", problem: "must be disable, require or verify-full")
        }
    }
}
