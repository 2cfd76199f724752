import Foundation
import TestSupport
import Testing

/// Task create and list requests per second through the gateway (JWT verification and
/// limits on) to the tasks service and PostgreSQL. Runs only under `make bench-tasks`
/// (BENCH=1, release build); prints figures, asserts none. The load comes from this same
/// process, so the figures are lower bounds on this 2-core machine.
@Suite("tasks benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct TasksBenchmark {
    static let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 10
    static let clients = Int(ProcessInfo.processInfo.environment["BENCH_CLIENTS"] ?? "") ?? 32

    /// Runs `request` from `clients` loops for `seconds`; answers requests/s, p50, p99 (ms) and failures.
    static func load(_ request: @escaping @Sendable (Int) async throws -> Int) async -> (Double, Double, Double, Int) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let results = await withTaskGroup(of: ([Double], Int).self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    var failures = 0
                    var round = 0
                    while ContinuousClock.now < deadline {
                        let begin = ContinuousClock.now
                        let status = (try? await request(client * 1_000_000 + round)) ?? 0
                        let elapsed = ContinuousClock.now - begin
                        latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                        if !(200..<300).contains(status) { failures += 1 }
                        round += 1
                    }
                    return (latencies, failures)
                }
            }
            var all: [Double] = []
            var failures = 0
            for await (latencies, failed) in group {
                all += latencies
                failures += failed
            }
            return (all.sorted(), failures)
        }
        let elapsed = ContinuousClock.now - started
        let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let latencies = results.0
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return (Double(latencies.count) / total, percentile(0.5), percentile(0.99), results.1)
    }

    @Test("create and list tasks through the gateway")
    func createAndList() async throws {
        let stack = try await Stack.shared.services()
        let signup = try await signUp(stack.gateway, name: "Bench", tenant: "Bench Ltd")
        // A gateway whose task route evaluates every limit in shadow mode: the work of
        // limiting is measured, and a free tenant's limit does not cut the run short.
        let gateway = try await Stack.startGateway(
            routes: """
                {"rateLimitClasses": {"measured": {"ipPerMinute": 600, "shadow": true}},
                 "routes": [{"prefix": "/v1/tasks", "upstream": "\(stack.tasks)", "rateLimitClass": "measured"}]}
                """, jwks: stack.jwks)
        let token = try #require(signup.string("accessToken"))
        let client = TestHTTP.wide
        let create = await Self.load { index in
            try await TestHTTP.send(
                "POST", "\(gateway)/v1/tasks", json: ["title": "Task \(index)", "tags": ["bench"], "priority": index % 5], token: token,
                client: client
            ).status
        }
        print(
            String(
                format: "BENCH tasks create via gateway: %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d failed (%d clients)", create.0, create.1, create.2,
                create.3, Self.clients))
        let list = await Self.load { _ in
            try await TestHTTP.send("GET", "\(gateway)/v1/tasks?limit=50&sort=-priority", token: token, client: client).status
        }
        print(
            String(
                format: "BENCH tasks list (50 per page) via gateway: %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d failed (%d clients)", list.0, list.1,
                list.2, list.3, Self.clients))
    }
}
