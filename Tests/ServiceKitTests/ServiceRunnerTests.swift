import Logging
import ServiceKit
import ServiceLifecycle
import Testing

/// A service that ignores graceful shutdown (as a flush against a broker that lost its state
/// would) and ends only when cancelled.
struct Stubborn: Service {
    func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

@Suite("shutdown deadlines")
struct ServiceRunnerTests {
    @Test("a service that ignores graceful shutdown is cancelled once the grace period is over")
    func graceIsBounded() async throws {
        let configuration = ServiceRunner.configuration(
            services: [Stubborn()], logger: Logger(label: "test"), signals: [], grace: .milliseconds(500), cancellation: .seconds(10))
        let group = ServiceGroup(configuration: configuration)
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(200))
        await group.triggerGracefulShutdown()
        // Without the deadline the group would wait for ever: after a generous 8 s the test
        // cancels it itself and fails.
        let ended = await withTaskGroup(of: Bool.self) { race in
            race.addTask {
                _ = await running.result
                return true
            }
            race.addTask {
                try? await Task.sleep(for: .seconds(8))
                running.cancel()
                return false
            }
            let first = await race.next() ?? false
            race.cancelAll()
            return first
        }
        #expect(ended)
    }
}
