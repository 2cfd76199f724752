import Foundation
import TestSupport
import Testing

/// Throughput of password logins and refresh rotations against a real auth service and
/// PostgreSQL. Runs only under `make bench` (BENCH=1); prints figures, asserts none.
@Suite("auth benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct AuthBenchmark {
    static let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 10
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body` on `workers` concurrent loops for the benchmark's duration; answers operations per second.
    static func measure(workers: Int, _ body: @escaping @Sendable (Int) async throws -> Bool) async throws -> (Double, Int) {
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        let (done, failed) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var ok = 0
                    var bad = 0
                    while ContinuousClock.now < deadline {
                        if try await body(worker) { ok += 1 } else { bad += 1 }
                    }
                    return (ok, bad)
                }
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        let elapsed = Double((ContinuousClock.now - start).components.seconds) + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        return (Double(done) / elapsed, failed)
    }

    static func report(_ name: String, _ rate: Double, failed: Int, target perCore: Double) {
        let line = String(
            format: "BENCH %@: %.1f/s on %d cores = %.1f/s per core (target %.0f/s per core), %d failed",
            name, rate, cores, rate / Double(cores), perCore, failed)
        print(line)
    }

    @Test("password logins per second (bcrypt cost 10)")
    func logins() async throws {
        let workers = 8
        var users: [Session] = []
        for _ in 0..<workers { users.append(try await Session.owner()) }
        let accounts = users
        let (rate, failed) = try await Self.measure(workers: workers) { worker in
            let body = ["email": accounts[worker].email, "password": accounts[worker].password]
            return try await TestHTTP.send(
                "POST", "\(try await AuthServer.shared.url())/v1/auth/login", json: body, headers: ["X-Forwarded-For": "192.0.2.\(worker + 1)"],
                client: TestHTTP.wide
            ).status == 200
        }
        Self.report("logins", rate, failed: failed, target: 15)
    }

    @Test("refresh-token rotations per second")
    func refreshes() async throws {
        let workers = Int(ProcessInfo.processInfo.environment["BENCH_WORKERS"] ?? "") ?? 32
        var tokens: [String] = []
        for _ in 0..<workers { tokens.append(try await Session.owner().refreshToken) }
        let chains = Chains(tokens)
        let (rate, failed) = try await Self.measure(workers: workers) { worker in
            let answer = try await TestHTTP.send(
                "POST", "\(try await AuthServer.shared.url())/v1/auth/refresh", json: ["refreshToken": chains.token(worker)], client: TestHTTP.wide)
            guard answer.status == 200, let next = answer.string("refreshToken") else { return false }
            chains.set(worker, next)
            return true
        }
        Self.report("refreshes", rate, failed: failed, target: 1000)
    }
}

/// Each worker's current refresh token.
final class Chains<Token>: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [Token]

    init(_ tokens: [Token]) { self.tokens = tokens }

    func token(_ index: Int) -> Token { lock.withLock { tokens[index] } }
    func set(_ index: Int, _ token: Token) { lock.withLock { tokens[index] = token } }
}
