import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// Builds the gateway: route table, token verification, proxy.
func buildGateway(_ configuration: GatewayConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    Observability.bootstrapLogging(level: configuration.logLevel)
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
            jwksURL: configuration.jwksURL, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience, logger: logger, httpClient: client)

    let readiness = Readiness()
    readiness.add("jwks") {
        if verifier.hasKeys { return true }
        await verifier.refreshKeys()
        return verifier.hasKeys
    }
    let tenants = TenantDirectory()
    let usage = UsageCounters()
    // Not `Router.service`: proxied requests get the gateway's own access log and metrics
    // (with route and plan), so the generic per-request log and metrics middleware would
    // only do the same work twice on the hot path.
    let router = Router(context: ServiceRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ProblemMiddleware())
    _ = PlatformMetrics.registry
    router.addOperationalRoutes(readiness: readiness)
    if !configuration.corsOrigins.isEmpty { router.add(middleware: CORSPolicy(origins: configuration.corsOrigins)) }
    router.add(
        middleware: ProxyMiddleware(
            routes: routes, client: client, verifier: verifier, tenants: tenants, limits: LimitPolicy(limiter: LocalRateLimiter()),
            pool: UpstreamPool(), usage: usage, accessLog: Logger(label: "gateway.access"), trustedProxyHops: configuration.trustedProxyHops))
    UsageRoutes(verifier: verifier, tenants: tenants, usage: usage).add(to: router)
    var services: [any Service] = [HTTPClientService(client: client)]
    if !configuration.kafkaBrokers.isEmpty {
        services.append(TenantFeed(brokers: configuration.kafkaBrokers, directory: tenants, logger: logger))
    }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "gateway"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
    app.beforeServerStarts { await verifier.refreshKeys() }
    return app
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
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "The public entry: tokens, routing.")

    func run() async throws {
        try await buildGateway(try .fromEnvironment()).runService()
    }
}
