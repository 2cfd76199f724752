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
    public static func run(_ app: some ApplicationProtocol, grace: Duration = .seconds(30), cancellation: Duration = .seconds(10)) async throws {
        try await ServiceGroup(configuration: configuration(services: [app], logger: app.logger, grace: grace, cancellation: cancellation)).run()
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
