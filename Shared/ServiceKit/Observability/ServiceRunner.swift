import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs an executable's application until SIGTERM or SIGINT, with deadlines: graceful
/// shutdown (readiness fails, requests drain, consumers commit, the producer flushes, jobs
/// hand back) gets `grace`; then the services are cancelled, and if cancelling outlasts
/// `cancellation` ServiceLifecycle ends the process. A step that never returns (a flush
/// against a broker that lost its state) cannot keep a replica alive after SIGTERM.
public enum ServiceRunner {
    /// With `readiness`, SIGTERM first drains for `drain` (readiness fails, answers close
    /// their connections, everything is still served) so load balancers and the gateway
    /// move away before the server stops accepting.
    public static func run(
        _ app: some ApplicationProtocol, readiness: Readiness? = nil, drain: Duration = .seconds(5), grace: Duration = .seconds(30),
        cancellation: Duration = .seconds(10)
    ) async throws {
        try await ServiceGroup(
            configuration: configuration(
                services: services(app, readiness: readiness, drain: drain), logger: app.logger, grace: grace, cancellation: cancellation)
        ).run()
    }

    /// The application, and after it the drain: a group shuts its services down last
    /// first, so the drain runs out before the application is asked to stop.
    public static func services(_ app: some ApplicationProtocol, readiness: Readiness?, drain: Duration) -> [any Service] {
        guard let readiness, drain > .zero else { return [app] }
        return [app, DrainOnShutdown(readiness: readiness, delay: drain)]
    }

    public static func configuration(
        services: [any Service], logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint], grace: Duration, cancellation: Duration
    ) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        configuration.maximumCancellationDuration = cancellation
        return configuration
    }
}

/// On graceful shutdown: readiness fails and answers close their connections for `delay`,
/// then it returns and the services before it shut down.
public struct DrainOnShutdown: Service {
    let readiness: Readiness
    let delay: Duration

    public func run() async throws {
        try? await gracefulShutdown()
        readiness.drain()
        try? await Task.sleep(for: delay)
    }
}
