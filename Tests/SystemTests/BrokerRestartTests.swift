import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Search
@testable import Tasks

/// Tasks and search on a broker of the test's own, which is killed and started again
/// (losing its topics and groups: the dev broker keeps them in memory) while tasks are
/// written. Prints each round's recovery (from the broker being back to the task being
/// published, and searchable) and how long each service then takes to shut down. Runs
/// alone, after the rest of `make test` (BROKER_RESTARTS=1): its services publish the
/// shared tasks outbox to their own broker, which would take other tests' events.
@Suite("broker restarts", .enabled(if: ProcessInfo.processInfo.environment["BROKER_RESTARTS"] != nil), .serialized)
struct BrokerRestartTests {
    static let rounds = 5

    @Test("events written while the broker was down reach their consumer once it is back, round after round")
    func eventsWrittenDuringOutagesArrive() async throws {
        let broker = ScratchBroker()
        try broker.start()
        defer { broker.stop() }
        let issuer = try await TestIssuer.start()
        let tasks = try await TestServer.start {
            try tasksHost(TestEnvironment.configuration("tasks", jwksURL: issuer.jwksURL, kafka: broker.brokers)).application(onServerRunning: $0)
        }
        let search = try await TestServer.start {
            try searchHost(TestEnvironment.configuration("search", jwksURL: issuer.jwksURL, kafka: broker.brokers)).application(onServerRunning: $0)
        }
        let tenant = UUID.v7()
        let token = try await issuer.token(tenant: tenant, roles: ["owner"])
        @Sendable func searchable(_ word: String) async throws -> Bool {
            let answer = try await TestHTTP.send("GET", "\(search.baseURL)/v1/search?q=\(word)", token: token)
            return (answer.json["hits"] as? [[String: Any]] ?? []).contains { ($0["title"] as? String)?.contains(word) == true }
        }
        // The flow works before any outage.
        #expect(try await TestHTTP.send("POST", "\(tasks.baseURL)/v1/tasks", json: ["title": "Warmup wombat"], token: token).status == 201)
        let warm = try await eventually(timeout: .seconds(60)) { try await searchable("wombat") }
        #expect(warm)

        var recoveries: [Double] = []
        for round in 1...Self.rounds {
            broker.stop()
            let word = String((0..<10).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement() ?? "a" })
            let created = try await TestHTTP.send("POST", "\(tasks.baseURL)/v1/tasks", json: ["title": "Written during \(word)"], token: token)
            #expect(created.status == 201)
            try await Task.sleep(for: .seconds(2))
            try broker.start()
            let back = ContinuousClock.now
            let published = Task {
                try await withDatabase("tasks") { database in
                    let found = try await eventually(timeout: .seconds(90)) {
                        let rows = try await database.client.query(
                            "SELECT 1 FROM tasks.outbox WHERE published_at IS NULL AND topic = 'tasks.task.v1'", logger: database.logger)
                        for try await _ in rows { return false }
                        return true
                    }
                    print(String(format: "BROKER round %d: outbox published %.1f s after", round, seconds(ContinuousClock.now - back)), found)
                }
            }
            let arrived = try await eventually(timeout: .seconds(90)) { try await searchable(word) }
            _ = try await published.value
            let recovery = seconds(ContinuousClock.now - back)
            #expect(arrived, "round \(round): the task written during the outage never became searchable")
            recoveries.append(recovery)
            print(String(format: "BROKER restart round %d: searchable %.1f s after the broker was back", round, recovery))
        }
        print(String(format: "BROKER worst recovery over %d restarts: %.1f s (target 10 s)", Self.rounds, recoveries.max() ?? 0))
        // After the restarts, SIGTERM's graceful shutdown ends within its deadline.
        for (name, server) in [("search", search), ("tasks", tasks)] {
            let stopping = ContinuousClock.now
            await server.stop()
            let took = seconds(ContinuousClock.now - stopping)
            print(String(format: "BROKER %@ shut down in %.1f s after %d restarts", name, took, Self.rounds))
            #expect(took < 45, "\(name) took \(took) s to shut down")
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
