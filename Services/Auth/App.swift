import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Logging
import Messaging
import Persistence
import ServiceHost
import ServiceKit

/// Builds the auth service: stores, token issuing, routes.
func authHost(_ configuration: AuthConfiguration) throws -> ServiceHost {
    let host = try ServiceHost(AuthProgram.self, configuration: configuration.service)
    let database = host.database
    let sealer = KeySealer(key: SymmetricKey(data: configuration.keyEncryptionKey))
    let keys = SigningKeyStore(database: database, sealer: sealer, retiredKeyLifetime: configuration.accessTokenLifetime + 120)
    let issuer = TokenIssuer(
        issuer: configuration.service.tokenIssuer, audience: configuration.service.tokenAudience, lifetime: configuration.accessTokenLifetime,
        reloadInterval: TimeInterval(configuration.keyReloadSeconds)
    ) { try await keys.activeKey() }
    // Auth verifies its own tokens against its own key table, not over HTTP. The table is
    // local, so an unknown kid (a key another replica just activated) may be looked up
    // again almost at once; the throttle only has to stop a flood of junk kids.
    let verifier = TokenVerifier(
        issuer: configuration.service.tokenIssuer, audience: configuration.service.tokenAudience, refetchInterval: .milliseconds(100),
        logger: host.logger
    ) { try await keys.jwksJSON() }
    let sessions = SessionStore(
        database: database, successorKey: configuration.refreshTokenSecret, idleLifetime: configuration.refreshIdleLifetime,
        absoluteLifetime: configuration.refreshAbsoluteLifetime, graceSeconds: configuration.refreshGraceSeconds)
    let accounts = AccountStore(database: database)
    let passwords = PasswordHasher(cost: configuration.bcryptCost)
    let audit = AuditLog(database: database)
    let throttle = LoginThrottle(database: database)
    let mfa = MFAStore(database: database, sealer: sealer)
    let signIn = SignIn(accounts: accounts, sessions: sessions, issuer: issuer, mfa: mfa, audit: audit)

    let router = host.router
    router.add(middleware: ClientAddressMiddleware(trusted: configuration.trustedProxies))
    let authenticated = router.group().add(middleware: AuthenticationMiddleware(verifier: verifier))
    let sessionRoutes = SessionRoutes(accounts: accounts, signIn: signIn, passwords: passwords, throttle: throttle, audit: audit)
    sessionRoutes.add(to: router, authenticated: authenticated)
    MFARoutes(accounts: accounts, mfa: mfa, signIn: signIn, audit: audit, throttle: throttle, issuerName: "Platform").add(
        to: router, authenticated: authenticated)
    EmailTokenRoutes(
        accounts: accounts, tokens: EmailTokenStore(database: database), sessions: sessions, passwords: passwords, throttle: throttle, audit: audit
    ).add(to: router, authenticated: authenticated)
    KeyRoutes(keys: keys, issuer: configuration.service.tokenIssuer).add(to: router)
    let clients = APIClientStore(database: database)
    TokenEndpoint(clients: clients, issuer: issuer, sessions: sessionRoutes, audit: audit).add(to: router)

    let tenants = TenantStore(database: database)
    let access = AdminAccess(audit: audit)
    TenantAdminRoutes(tenants: tenants, access: access, audit: audit).add(to: authenticated)
    MemberRoutes(members: MemberStore(database: database, sessions: sessions), access: access, audit: audit).add(to: authenticated)
    InvitationRoutes(
        invitations: InvitationStore(database: database, accounts: accounts), tenants: tenants, accounts: accounts, signIn: signIn,
        passwords: passwords, access: access, audit: audit
    ).add(to: router, authenticated: authenticated)
    APIClientRoutes(clients: clients, tenants: tenants, access: access, audit: audit).add(to: authenticated)
    AuditLogRoutes(audit: audit, access: access).add(to: authenticated)
    PlatformRoutes(tenants: tenants, audit: audit).add(to: authenticated)
    OAuthRoutes(
        providers: Dictionary(uniqueKeysWithValues: configuration.oauthProviders.map { ($0.name, OAuthProviderClient($0)) }),
        identities: IdentityStore(database: database, accounts: accounts), tenants: tenants, accounts: accounts, signIn: signIn, audit: audit,
        publicURL: configuration.publicURL ?? configuration.service.tokenIssuer, allowedRedirectURIs: configuration.redirectURIs
    ).add(to: router, authenticated: authenticated)

    host.beforeStart {
        try await OperatorBootstrap(accounts: accounts, passwords: passwords)
            .ensure(email: configuration.operatorEmail, password: configuration.operatorPassword)
        _ = try await issuer.activeKeyID()
    }
    return host
}

enum AuthProgram: ServiceProgram {
    static let name = "auth"
    static func migrations() throws -> [Migration] { try ServiceHost.migrations(in: .module) }
    static func configuration() throws -> ServiceConfiguration { try AuthConfiguration.fromEnvironment().service }
    static func serve(migrate: Bool) async throws {
        var configuration = try AuthConfiguration.fromEnvironment()
        configuration.service.migrateOnStart = migrate
        try await authHost(configuration).run()
    }
}

@main
struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Identity: tenants, users, sessions, tokens.",
        subcommands: [ServeCommand<AuthProgram>.self, MigrateCommand<AuthProgram>.self, DeadLetterCommand<AuthProgram>.self, Keys.self],
        defaultSubcommand: ServeCommand<AuthProgram>.self)

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Manage token signing keys.", subcommands: [Rotate.self])

        struct Rotate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Publish a new signing key now; it starts signing after --publish-ahead seconds, when the current key retires.")

            @Option(help: "Seconds between publishing the key in the JWKS and signing with it (longer than any JWKS cache).")
            var publishAhead = 600

            func run() async throws {
                let configuration = try AuthConfiguration.fromEnvironment()
                let logger = Logger(label: "auth.keys")
                let database = try Database(
                    url: configuration.service.databaseURL, schema: "auth", logger: logger, maxConnections: 2, tls: configuration.service.databaseTLS)
                let store = SigningKeyStore(
                    database: database, sealer: KeySealer(key: SymmetricKey(data: configuration.keyEncryptionKey)),
                    retiredKeyLifetime: configuration.accessTokenLifetime + 120)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await database.client.run() }
                    let kid = try await store.rotate(publishAhead: publishAhead)
                    print("published signing key \(kid); it signs from \(Date().addingTimeInterval(TimeInterval(publishAhead)))")
                    group.cancelAll()
                }
            }
        }
    }
}
