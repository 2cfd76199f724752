import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// Builds the auth service: stores, token issuing, routes, runtime.
func buildAuth(_ configuration: AuthConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let runtime = try ServiceRuntime(
        configuration: configuration.service, schema: "auth", migrations: try ServiceRuntime.migrations(in: .module))
    let database = runtime.database
    let keys = SigningKeyStore(database: database, keyEncryptionKey: SymmetricKey(data: configuration.keyEncryptionKey))
    let issuer = TokenIssuer(
        issuer: configuration.service.tokenIssuer, audience: configuration.service.tokenAudience, lifetime: configuration.accessTokenLifetime)
    // Auth verifies its own tokens against its own key table, not over HTTP.
    let verifier = TokenVerifier(
        issuer: configuration.service.tokenIssuer, audience: configuration.service.tokenAudience, logger: runtime.logger
    ) { try await keys.jwksJSON() }
    let sessions = SessionStore(
        database: database, successorKey: configuration.refreshTokenSecret, idleLifetime: configuration.refreshIdleLifetime,
        absoluteLifetime: configuration.refreshAbsoluteLifetime, graceSeconds: configuration.refreshGraceSeconds)

    let router = Router<ServiceRequestContext>.service(readiness: runtime.readiness)
    SessionRoutes(accounts: AccountStore(database: database), sessions: sessions, issuer: issuer, bcryptCost: configuration.bcryptCost)
        .add(to: router, verifier: verifier)
    KeyRoutes(keys: keys, issuer: configuration.service.tokenIssuer).add(to: router)

    var app = runtime.application(router: router, onServerRunning: onServerRunning)
    app.beforeServerStarts {
        await issuer.use(try await keys.activeKey())
    }
    return app
}

@main
struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Identity: tenants, users, sessions, tokens.",
        subcommands: [Serve.self], defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply migrations and serve HTTP.")
        func run() async throws {
            try await buildAuth(try AuthConfiguration.fromEnvironment()).runService()
        }
    }
}
