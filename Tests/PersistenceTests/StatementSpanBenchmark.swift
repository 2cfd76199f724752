import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing
import Tracing

/// What a statement batch's span costs with tracing off (the default): a tenant transaction
/// through `Database.withTenant`, which makes the span, against the same statements through
/// the pool directly, as before spans. Both inside a request's span, as in a handler. In
/// turns, in one run; prints figures, asserts nothing. `BENCH=1`.
@Suite("statement span benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct StatementSpanBenchmark {
    static let rounds = 6
    static let transactions = 1_000

    @Test("a tenant transaction with its span and without, in turns")
    func spanCost() async throws {
        try await withDatabase("tasks") { database in
            let tenant = UUID.v7()
            func spanned() async throws {
                _ = try await database.withTenant(tenant) { connection in
                    try await connection.query("SELECT 1", logger: database.logger).collect()
                }
            }
            func direct() async throws {
                _ = try await database.client.withTransaction(logger: database.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(tenant.uuidString), true)", logger: database.logger)
                    return try await connection.query("SELECT 1", logger: database.logger).collect()
                }
            }
            var timings: [String: [Duration]] = ["with span": [], "direct": []]
            try await withSpan("request") { _ in
                for _ in 0..<50 {
                    try await spanned()
                    try await direct()
                }
                for round in 0..<Self.rounds {
                    for (name, run) in round % 2 == 0 ? [("with span", spanned), ("direct", direct)] : [("direct", direct), ("with span", spanned)] {
                        let start = ContinuousClock.now
                        for _ in 0..<Self.transactions { try await run() }
                        timings[name, default: []].append(ContinuousClock.now - start)
                    }
                }
            }
            for (name, rounds) in timings.sorted(by: { $0.key < $1.key }) {
                let perTransaction = rounds.map {
                    Double($0.components.attoseconds) / 1e12 / Double(Self.transactions) + Double($0.components.seconds) * 1e6
                        / Double(Self.transactions)
                }.sorted()
                print(
                    "STATEMENT SPAN \(name): median \(String(format: "%.1f", perTransaction[perTransaction.count / 2])) µs per transaction, rounds \(perTransaction.map { String(format: "%.1f", $0) }.joined(separator: " "))"
                )
            }
        }
    }
}
