import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Gateway
@testable import Tasks

/// Two replicas of tasks behind a gateway under steady load; one is shut down as SIGTERM
/// would (drain, then stop accepting, then finish what is in flight). No client request
/// may fail.
@Suite("graceful shutdown under load")
struct GracefulShutdownTests {
    @Test("a replica shut down under steady load through the gateway fails no client request")
    func replicaShutdownFailsNothing() async throws {
        // The shared test broker: a broker of its own would take events of other tests,
        // which the replicas' outbox relays publish from the one tasks schema.
        let issuer = try await TestIssuer.start()
        let leaving = try tasksHost(TestEnvironment.configuration("tasks", jwksURL: issuer.jwksURL))
        let replicaA = try await TestServer.start(readiness: leaving.readiness, drain: .seconds(3)) {
            leaving.application(onServerRunning: $0)
        }
        let replicaB = try await TestServer.start {
            try tasksHost(TestEnvironment.configuration("tasks", jwksURL: issuer.jwksURL)).application(onServerRunning: $0)
        }
        let gateway = try await Stack.startGateway(
            routes: """
                {"routes": [{"prefix": "/v1/tasks", "upstreams": ["\(replicaA.baseURL)", "\(replicaB.baseURL)"], "rateLimitClass": "none"}]}
                """, jwks: issuer.jwksURL)
        let token = try await issuer.token(tenant: .v7(), roles: ["member"])

        let outcomes = Recorder<Int>()
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { clients in
                let until = ContinuousClock.now + .seconds(6)
                for client in 0..<6 {
                    clients.addTask {
                        var count = 0
                        while ContinuousClock.now < until {
                            let answer =
                                count % 2 == 0
                                ? try? await TestHTTP.send("POST", "\(gateway)/v1/tasks", json: ["title": "Load \(client)-\(count)"], token: token)
                                : try? await TestHTTP.send("GET", "\(gateway)/v1/tasks?limit=5", token: token)
                            outcomes.append(answer?.status ?? 0)
                            count += 1
                        }
                    }
                }
                try await clients.waitForAll()
            }
        }
        try await Task.sleep(for: .seconds(2))
        let draining = Task { await replicaA.stop() }
        // While it drains, the leaving replica says so to probes and still answers.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await TestHTTP.send("GET", "\(replicaA.baseURL)/readyz").status == 503)
        try await load.value
        await draining.value
        let failed = outcomes.all.filter { ![200, 201].contains($0) }
        print("SHUTDOWN \(outcomes.count) requests through the gateway while a replica shut down; \(failed.count) failed")
        #expect(outcomes.count > 10)
        #expect(failed.isEmpty, "statuses of the failed requests: \(failed)")
        await replicaB.stop()
    }
}
