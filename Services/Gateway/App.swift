import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Messaging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceKit
import ServiceLifecycle

/// Builds the gateway: route table, token verification, the proxy's front door, and the
/// gateway's own routes behind it.
/// `readiness` fails while the gateway drains on SIGTERM (`ServiceRunner`).
func buildGateway(
    _ configuration: GatewayConfiguration, readiness: Readiness = Readiness(), onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    Observability.bootstrapLogging(level: configuration.logLevel)
    let exporter = try Observability.bootstrapTracing(serviceName: "gateway")
    let logger = Logger(label: "gateway")
    let routes = try LiveRouteTable(path: configuration.routesFile, logger: logger)
    routes.reloadOnHangup()
    var clientConfiguration = HTTPClient.Configuration()
    // The default of 8 connections per upstream would queue requests under load.
    clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 128
    // A refused connection fails the request at once (502, breaker counts it) instead of
    // being retried with backoff until the route's timeout.
    clientConfiguration.connectionPool.retryConnectionEstablishment = false
    clientConfiguration.timeout.connect = .seconds(2)
    clientConfiguration.decompression = .disabled
    clientConfiguration.redirectConfiguration = .disallow
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    let verifier =
        configuration.jwksURL.isEmpty
        ? TokenVerifier(
            discoveryURL: configuration.discoveryURL, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, logger: logger,
            httpClient: client)
        : TokenVerifier(
            jwksURL: configuration.jwksURL, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, logger: logger,
            httpClient: client)

    readiness.add("jwks") {
        if verifier.hasKeys { return true }
        await verifier.refreshKeys()
        return verifier.hasKeys
    }
    let tenants = TenantDirectory()
    let usage = UsageCounters()
    let router = try gatewayRouter(verifier: verifier, tenants: tenants, usage: usage, readiness: readiness)

    let gatekeeper = Gatekeeper(
        verifier: verifier, tenants: tenants, limits: LimitPolicy(limiter: LocalRateLimiter()), usage: usage, logger: logger)
    let (localPort, localPortAnnouncer) = AsyncStream<Int>.makeStream()
    let tls = try NIOSSLContext(configuration: .makeClientConfiguration())
    let idle = IdleConnectionsByLoop(group: .singleton)
    let front = FrontDoor(
        host: configuration.host, port: configuration.port, localPort: localPort,
        makeServices: { local in
            ProxyServices(
                routes: routes, gatekeeper: gatekeeper, health: UpstreamPool(), cors: CORSPolicy(origins: configuration.corsOrigins),
                accessLog: AccessLog(logger: Logger(label: "gateway.access")), trustedProxyHops: configuration.trustedProxyHops,
                local: Route(prefix: "/", upstreams: [local], isPublic: true, timeout: .seconds(30), maxBodyBytes: 1 << 20, limits: .unlimited),
                idle: idle, readiness: readiness, tls: tls)
        },
        onServerRunning: onServerRunning, logger: logger)
    var services: [any Service] = [front, HTTPClientService(client: client)]
    if let exporter { services.append(exporter) }
    if !configuration.kafkaBrokers.isEmpty {
        services.append(TenantFeed(brokers: configuration.kafkaBrokers, directory: tenants, service: "gateway", logger: logger))
    }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "gateway"),
        services: services,
        onServerRunning: { channel in
            localPortAnnouncer.yield(channel.localAddress?.port ?? 0)
            localPortAnnouncer.finish()
        },
        logger: logger)
    app.beforeServerStarts { await verifier.refreshKeys() }
    return app
}

/// The gateway's own routes; the front door reaches them on an internal port.
func gatewayRouter(
    verifier: TokenVerifier, tenants: TenantDirectory, usage: UsageCounters, readiness: Readiness
) throws -> Router<ServiceRequestContext> {
    let router = Router(context: ServiceRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ProblemMiddleware())
    _ = PlatformMetrics.registry
    router.addOperationalRoutes(readiness: readiness)
    try router.addAPIDocument("gateway", prefix: "v1/gateway")
    UsageRoutes(verifier: verifier, tenants: tenants, usage: usage).add(to: router)
    return router
}

/// Shuts the upstream client down after the server has drained.
struct HTTPClientService: Service {
    let client: HTTPClient
    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "The public entry: tokens, routing.", subcommands: [Serve.self, Migrate.self], defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve HTTP.")

        @Flag(name: .customLong("no-migrate"), help: "Accepted like every executable's; the gateway has no schema.")
        var noMigrate = false

        func run() async throws {
            let configuration = try GatewayConfiguration.fromEnvironment()
            let readiness = Readiness()
            try await ServiceRunner.run(
                try buildGateway(configuration, readiness: readiness), readiness: readiness, drain: configuration.shutdownDrain)
        }
    }

    /// Every executable answers `migrate`, so a deployment runs one Job shape for all.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Nothing to apply: the gateway owns no schema.")

        func run() async throws {
            print("gateway: no schema; nothing to migrate")
        }
    }
}
