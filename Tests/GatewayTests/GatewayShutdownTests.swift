import Foundation
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// Two gateway replicas under steady load; one is shut down as SIGTERM would. The
/// clients reach the replicas the way a Kubernetes Service does: through the endpoints
/// whose readiness probe passes, re-read every 100 ms. No client request may fail.
@Suite("gateway graceful shutdown under load")
struct GatewayShutdownTests {
    @Test("a gateway replica shut down under steady load fails no client request")
    func replicaShutdownFailsNothing() async throws {
        let issuer = try await TestIssuer.start()
        let upstream = try await GatewayHarness.upstream(name: "solo")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID()).json")
        try #"{"routes": [{"prefix": "/public", "upstream": "\#(upstream.baseURL)", "public": true, "rateLimitClass": "none"}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let configuration = GatewayConfiguration(
            host: "127.0.0.1", port: 0, routesFile: file.path, jwksURL: issuer.jwksURL, tokenIssuer: TestEnvironment.issuer,
            tokenAudience: TestEnvironment.audience, logLevel: "error")
        let readiness = Readiness()
        let leaving = try await TestServer.start(readiness: readiness, drain: .seconds(3)) {
            try buildGateway(configuration, readiness: readiness, onServerRunning: $0)
        }
        let staying = try await TestServer.start { try buildGateway(configuration, onServerRunning: $0) }
        let endpoints = ReadyEndpoints([leaving.baseURL, staying.baseURL])
        let probing = Task { await endpoints.probe() }

        let outcomes = Recorder<Int>()
        // Longer than the drain (3 s, which must outlast the probes even in a loaded suite),
        // and on until 30 requests were answered: a suite on two cores stalls for seconds.
        let until = ContinuousClock.now + .seconds(6)
        let giveUp = ContinuousClock.now + .seconds(30)
        let load = Task {
            await withTaskGroup(of: Void.self) { clients in
                for client in 0..<6 {
                    clients.addTask {
                        var count = 0
                        while ContinuousClock.now < until || (outcomes.count < 30 && ContinuousClock.now < giveUp) {
                            let gateway = endpoints.next()
                            let answer =
                                count % 2 == 0
                                ? try? await TestHTTP.send("POST", "\(gateway)/public/load/\(client)", json: ["n": count])
                                : try? await TestHTTP.send("GET", "\(gateway)/public/load/\(client)?n=\(count)")
                            outcomes.append(answer?.status ?? 0)
                            count += 1
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(1.5))
        let draining = Task { await leaving.stop() }
        // While it drains, the leaving replica says so to probes and still answers (a loaded
        // suite may take a moment to start the shutdown).
        let notReady = try await eventually(timeout: .seconds(2)) { try await TestHTTP.send("GET", "\(leaving.baseURL)/readyz").status == 503 }
        #expect(notReady)
        let drained = try await TestHTTP.send("GET", "\(leaving.baseURL)/public/late")
        #expect(drained.status == 200)
        #expect(drained.headers["connection"] == "close")
        await load.value
        await draining.value
        probing.cancel()
        let failed = outcomes.all.filter { $0 != 200 }
        print("GATEWAY SHUTDOWN \(outcomes.count) requests while a gateway replica shut down; \(failed.count) failed")
        #expect(outcomes.count >= 30)
        #expect(failed.isEmpty, "statuses of the failed requests: \(failed)")
        await staying.stop()
        await upstream.stop()
        await issuer.server.stop()
    }
}

/// The replicas whose `/readyz` answered 200 at the last probe, taken in turn.
final class ReadyEndpoints: Sendable {
    private let all: [String]
    private let state: Mutex<(ready: [String], turn: Int)>

    init(_ all: [String]) {
        self.all = all
        self.state = Mutex((all, 0))
    }

    func next() -> String {
        state.withLock { state in
            state.turn += 1
            return state.ready[state.turn % state.ready.count]
        }
    }

    func probe() async {
        while !Task.isCancelled {
            var ready: [String] = []
            for url in all where (try? await TestHTTP.send("GET", "\(url)/readyz"))?.status == 200 { ready.append(url) }
            if !ready.isEmpty { state.withLock { $0.ready = ready } }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
