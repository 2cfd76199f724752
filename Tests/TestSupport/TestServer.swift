import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// A service application running in this process on a free port, with its lifecycle
/// services (pool, relay, consumers). Tests talk to it over real HTTP.
public final class TestServer: Sendable {
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `build` receives the callback that reports the bound port.
    /// With `readiness`, `stop()` drains for `drain` first, as SIGTERM does (ServiceRunner).
    public static func start(
        readiness: Readiness? = nil, drain: Duration = .zero, _ build: (@escaping @Sendable (Int) async -> Void) throws -> some ApplicationProtocol
    ) async throws -> TestServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try build { port in continuation.yield(port) }
        let group = ServiceGroup(
            services: ServiceRunner.services(app, readiness: readiness, drain: drain), gracefulShutdownSignals: [], cancellationSignals: [],
            logger: TestEnvironment.logger)
        // When the application ends (or throws before listening) the port stream ends too.
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        let port = try await withThrowingTaskGroup(of: Int?.self) { waiters in
            waiters.addTask {
                for await port in ports { return port }
                return nil
            }
            waiters.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { waiters.cancelAll() }
            return try await waiters.next() ?? nil
        }
        guard let port else {
            task.cancel()
            throw TestServerError.didNotStart
        }
        return TestServer(port: port, group: group, task: task)
    }

    init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Graceful shutdown, as on SIGTERM.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    enum TestServerError: Error { case didNotStart }
}
