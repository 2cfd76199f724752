import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Search

/// Updates that change no text (a status), written by the index function two ways in
/// turns in one run (this machine's speed drifts): as migration 0009 wrote them, parsing
/// title and body again into new vectors, and as 0011 does, keeping the stored vectors.
/// Runs only under `make bench-search`; prints figures, asserts none.
@Suite("text vector benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct TextVectorBenchmark {
    static let documents = 20_000
    static let batch = 500
    static let turns = 3

    @Test("status-only updates per second: vectors kept (0011) against vectors parsed again (0009)")
    func statusOnlyUpdates() async throws {
        try await withDatabase("search") { database in
            let former = try Self.formerFunction()
            try await database.client.query(PostgresQuery(unsafeSQL: former), logger: database.logger)
            let tenant = UUID.v7()
            var corpus = (0..<Self.documents).map { index in
                IndexedDocument(
                    tenant: tenant, type: "task", id: .v7(), title: "Quarterly report \(index) for the board",
                    body: "Collect the figures of every region, compare them with last year's and write the summary \(index).",
                    tags: ["finance", "report"], facets: ["status": "todo"], visibleTo: nil, version: 1, deleted: false, updatedAt: Date())
            }
            let writer = IndexWriter(database: database)
            for start in stride(from: 0, to: corpus.count, by: 1000) {
                try await writer.apply(Array(corpus[start..<min(start + 1000, corpus.count)]))
            }
            var figures: [String: [Double]] = [:]
            let statuses = ["in_progress", "blocked", "done", "todo"]
            var round = 0
            for turn in 1...Self.turns {
                // Each starts from a vacuumed table (the dead versions of the last pass cleared),
                // and the two take turns going first.
                let ways = ["apply_documents", "apply_documents_0009"]
                for function in turn % 2 == 1 ? ways : ways.reversed() {
                    round += 1
                    try await database.client.query("VACUUM search.documents", logger: database.logger)
                    for index in corpus.indices {
                        corpus[index].version += 1
                        corpus[index].facets = ["status": statuses[round % statuses.count]]
                    }
                    // Encoded beforehand: only the database's work is timed.
                    let batches = stride(from: 0, to: corpus.count, by: Self.batch).map {
                        BatchJSON.encode(Array(corpus[$0..<min($0 + Self.batch, corpus.count)]))
                    }
                    let started = ContinuousClock.now
                    for json in batches {
                        try await database.client.query("SELECT search.\(unescaped: function)(\(json)::jsonb)", logger: database.logger)
                    }
                    let elapsed = ContinuousClock.now - started
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let rate = Double(corpus.count) / seconds
                    figures[function, default: []].append(rate)
                    print(String(format: "BENCH status-only updates, turn %d, %@: %.0f documents/s", turn, function, rate))
                }
            }
            for (function, rates) in figures.sorted(by: { $0.key < $1.key }) {
                print(String(format: "BENCH status-only updates, %@: median %.0f documents/s", function, rates.sorted()[rates.count / 2]))
            }
            try await database.client.query("DROP FUNCTION search.apply_documents_0009(jsonb, uuid)", logger: database.logger)
        }
    }

    /// apply_documents as migration 0009 created it, under another name.
    static func formerFunction() throws -> String {
        let migration = try #require(try SearchProgram.migrations().first { $0.version.hasPrefix("0009") })
        let start = try #require(migration.sql.range(of: "CREATE OR REPLACE FUNCTION apply_documents("))
        let end = try #require(migration.sql.range(of: "END $$;", range: start.upperBound..<migration.sql.endIndex))
        return String(migration.sql[start.lowerBound..<end.upperBound])
            .replacingOccurrences(of: "FUNCTION apply_documents(", with: "FUNCTION search.apply_documents_0009(")
    }
}
