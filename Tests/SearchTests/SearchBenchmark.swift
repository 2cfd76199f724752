import Contracts
import Foundation
import Messaging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Search

/// The search index at scale: 1,000,000 task documents for 100 tenants of Zipf sizes,
/// loaded from events through the broker; then query latency, query throughput,
/// event-to-searchable latency under a steady update load, and the index's size. Runs
/// only under `make bench-search` (BENCH=1, release build); prints figures, asserts none.
@Suite("search benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH"] != nil), .serialized)
struct SearchBenchmark {
    static let documents = Int(ProcessInfo.processInfo.environment["BENCH_DOCUMENTS"] ?? "") ?? 1_000_000
    static let tenantCount = 100
    static let cores = ProcessInfo.processInfo.activeProcessorCount
    /// Queries timed per kind and tenant: of 100, the p99 was the slowest one.
    static let queryRounds = 300

    @Test("index 1M task documents from events, then query, then update under load")
    func benchmark() async throws {
        var corpus = Corpus(seed: 42)
        let tenants = (0..<Self.tenantCount).map { _ in UUID.v7() }
        let sizes = Corpus.zipfSizes(total: Self.documents, parts: Self.tenantCount)
        _ = try await withDatabase("search") { database in
            // A clean index: earlier runs' documents would inflate the figures, and their
            // consumer positions would end the wait for indexing at once (the test broker
            // keeps its topics in memory: each run starts from offset 0).
            try await database.client.query(
                """
                DO $$ BEGIN
                  IF to_regclass('search.generations') IS NOT NULL THEN TRUNCATE search.documents, search.title_words, search.generations, search.consumer_positions; END IF;
                END $$
                """, logger: database.logger)
        }
        print(
            "search benchmark: \(Self.documents) documents, \(Self.tenantCount) tenants (largest \(sizes[0]), smallest \(sizes.last ?? 0)), \(Self.cores) cores"
        )

        // 1. Produce every event first, then start the service and time the indexing alone.
        var taskIDs: [[UUID]] = []
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "search-bench", logger: TestEnvironment.logger)
        let produceStart = ContinuousClock.now
        var pending: [OutgoingMessage] = []
        for (index, tenant) in tenants.enumerated() {
            var ids: [UUID] = []
            for _ in 0..<sizes[index] {
                let id = UUID.v7()
                ids.append(id)
                pending.append(try Self.message(corpus.task(tenant: tenant, id: id, version: 1)))
                if pending.count == 10_000 {
                    try Self.check(await producer.send(pending))
                    pending.removeAll(keepingCapacity: true)
                }
            }
            taskIDs.append(ids)
        }
        try Self.check(await producer.send(pending))
        print(String(format: "  produced %d events in %.1f s", Self.documents, Self.seconds(ContinuousClock.now - produceStart)))

        let issuer = try await TestIssuer.start()
        let configuration = TestEnvironment.configuration("search", jwksURL: issuer.jwksURL)
        let indexStart = ContinuousClock.now
        let server = try await TestServer.start { try searchHost(configuration).application(onServerRunning: $0) }
        try await withDatabase("search") { database in
            while try await Self.committed(database) < Self.documents {
                try await Task.sleep(for: .milliseconds(200))
            }
            let indexSeconds = Self.seconds(ContinuousClock.now - indexStart)
            print(
                String(
                    format: "  indexing: %d documents in %.1f s = %.0f documents/s (from service start, group join included)",
                    Self.documents, indexSeconds, Double(Self.documents) / indexSeconds))
            try await database.client.query("VACUUM ANALYZE search.documents", logger: database.logger)
            try await Self.printSizes(database)
        }

        // 2. Query latency, one query at a time, for the largest and the smallest tenant,
        //    after a warm-up with other words: the load and VACUUM have just left the caches
        //    and connections cold, which a serving index never is.
        for (label, rank) in [("large", 0), ("small", Self.tenantCount - 1)] {
            let token = try await issuer.token(tenant: tenants[rank], roles: ["viewer"], expiresIn: 3600)
            for kind in QueryKind.allCases {
                for round in Self.queryRounds..<(Self.queryRounds + 20) {
                    _ = try await TestHTTP.send("GET", "\(server.baseURL)/v1/search?\(corpus.query(kind, round: round))", token: token)
                }
            }
            for kind in QueryKind.allCases {
                var latencies: [Double] = []
                var hits = 0
                for round in 0..<Self.queryRounds {
                    let query = corpus.query(kind, round: round)
                    let started = ContinuousClock.now
                    let answer = try await TestHTTP.send("GET", "\(server.baseURL)/v1/search?\(query)", token: token)
                    latencies.append(Self.seconds(ContinuousClock.now - started) * 1000)
                    guard answer.status == 200 else { throw BenchFailure("\(query) answered \(answer.status)") }
                    hits += (answer.json["hits"] as? [Any])?.count ?? 0
                }
                latencies.sort()
                let name = kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                print(
                    "  \(label) tenant (\(sizes[rank]) docs), \(name)"
                        + String(
                            format: " p50 %6.1f ms  p99 %6.1f ms  (%.1f hits/query)", Self.percentile(latencies, 0.5),
                            Self.percentile(latencies, 0.99), Double(hits) / Double(Self.queryRounds)))
            }
        }

        // 3. Throughput: 8 clients, the query mix, 15 s, against the largest tenant.
        let token = try await issuer.token(tenant: tenants[0], roles: ["viewer"], expiresIn: 3600)
        let queries = (0..<400).map { corpus.query(QueryKind.allCases[$0 % QueryKind.allCases.count], round: $0) }
        let deadline = ContinuousClock.now + .seconds(15)
        let throughputStart = ContinuousClock.now
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        let query = queries[(client * 50 + count) % queries.count]
                        _ = try await TestHTTP.send("GET", "\(server.baseURL)/v1/search?\(query)", token: token)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let perSecond = Double(answered) / Self.seconds(ContinuousClock.now - throughputStart)
        print(String(format: "  throughput, large tenant, 8 clients: %.0f queries/s = %.0f per core", perSecond, perSecond / Double(Self.cores)))

        // 4. Event to searchable under steady update loads (rising, so a backlog left by one
        //    cannot inflate the next), 15 s each, with 10 marked updates a second whose
        //    arrival in the index is watched.
        var version = 2
        for rate in [1_000, 2_500, 5_000] {
            let markerTenant = tenants[Self.tenantCount - 1]
            var load: [(batch: [OutgoingMessage], marker: UUID, version: Int)] = []
            for tick in 0..<150 {
                var batch: [OutgoingMessage] = []
                for _ in 0..<(rate / 10 - 1) {
                    let tenantIndex = corpus.zipfTenant(Self.tenantCount)
                    let ids = taskIDs[tenantIndex]
                    batch.append(try Self.message(corpus.task(tenant: tenants[tenantIndex], id: ids[corpus.next(ids.count)], version: version)))
                }
                let marker = taskIDs[Self.tenantCount - 1][tick % taskIDs[Self.tenantCount - 1].count]
                batch.append(try Self.message(corpus.task(tenant: markerTenant, id: marker, version: 10_000 + version)))
                load.append((batch, marker, 10_000 + version))
                version += 1
            }
            let markers = Markers()
            let loadStart = ContinuousClock.now
            try await withDatabase("search") { [load] database in
                let watcher = Task { try await markers.watch(database, tenant: markerTenant) }
                for (tick, step) in load.enumerated() {
                    let sent = ContinuousClock.now
                    try Self.check(await producer.send(step.batch))
                    markers.sent(step.marker, version: step.version, at: sent)
                    let next = loadStart + .milliseconds(100 * (tick + 1))
                    if next > ContinuousClock.now { try await Task.sleep(until: next) }
                }
                let waitUntil = ContinuousClock.now + .seconds(60)
                while markers.outstanding > 0, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(100)) }
                watcher.cancel()
            }
            let latencies = markers.latencies.sorted()
            print(
                String(
                    format: "  event to searchable under %d updates/s: p50 %.0f ms  p99 %.0f ms  max %.0f ms  (%d of 150 marked updates seen)",
                    rate, Self.percentile(latencies, 0.5), Self.percentile(latencies, 0.99), latencies.last ?? 0, latencies.count))
        }
        await producer.shutdown()
        await server.stop()
    }

    static func message(_ event: EventEnvelope) throws -> OutgoingMessage {
        OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers)
    }

    static func check(_ results: [KafkaError?]) throws {
        if let error = results.compactMap({ $0 }).first { throw error }
    }

    static func committed(_ database: Database) async throws -> Int {
        for try await sum in try await database.client.query(
            "SELECT COALESCE((SELECT sum(committed) FROM search.consumer_positions WHERE consumer = 'search.indexer' AND topic = 'tasks.task.v1'), 0)::bigint",
            logger: database.logger
        ).decode(Int.self) {
            return sum
        }
        return 0
    }

    static func printSizes(_ database: Database) async throws {
        for try await (name, bytes) in try await database.client.query(
            """
            SELECT 'table (heap + TOAST)', (SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('search.documents') WHERE isleaf)::bigint
            UNION ALL
            SELECT 'index ' || c.relname, (SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(c.oid) WHERE isleaf)::bigint
            FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = 'search.documents'::regclass
            UNION ALL
            SELECT 'title words (table + indexes)', (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('search.title_words') WHERE isleaf)::bigint
            UNION ALL
            SELECT 'total', sum(pg_total_relation_size(p.relid))::bigint
            FROM (VALUES ('search.documents'::regclass), ('search.title_words'::regclass)) AS r(t), pg_partition_tree(r.t) p WHERE p.isleaf
            """, logger: database.logger
        ).decode((String, Int).self) {
            print("  size \(name.padding(toLength: 40, withPad: " ", startingAt: 0))" + String(format: " %8.1f MB", Double(bytes) / 1_048_576))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum QueryKind: String, CaseIterable {
    case oneWord = "one word"
    case twoWords = "two words"
    case prefix, typo, facets
}

/// Marked updates: when each was sent, when the index first held it.
final class Markers: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UUID: (version: Int, sent: ContinuousClock.Instant)] = [:]
    private var seen: [Double] = []

    func sent(_ id: UUID, version: Int, at instant: ContinuousClock.Instant) {
        lock.withLock { pending[id] = (version, instant) }
    }

    var outstanding: Int { lock.withLock { pending.count } }
    var latencies: [Double] { lock.withLock { seen } }

    /// Every 10 ms: which pending markers the index holds at their version.
    func watch(_ database: Database, tenant: UUID) async throws {
        while !Task.isCancelled {
            let wanted = lock.withLock { pending.map { ($0.key, $0.value.version) } }
            if !wanted.isEmpty {
                let found = try await database.withTenant(tenant) { connection in
                    var ids: [UUID] = []
                    for try await id in try await connection.query(
                        """
                        SELECT d.doc_id FROM search.documents d JOIN unnest(\(wanted.map(\.0))::uuid[], \(wanted.map(\.1))::int[]) AS w(id, v)
                          ON d.doc_id = w.id AND d.version >= w.v
                        WHERE d.tenant_id = \(tenant) AND d.doc_type = 'task'
                        """, logger: database.logger
                    ).decode(UUID.self) {
                        ids.append(id)
                    }
                    return ids
                }
                let now = ContinuousClock.now
                lock.withLock {
                    for id in found {
                        if let entry = pending.removeValue(forKey: id) { seen.append(SearchBenchmark.seconds(now - entry.sent) * 1000) }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Synthetic tasks: titles and descriptions from a 20,000-word vocabulary whose word
/// frequencies follow Zipf's law, as natural text does; a seeded generator.
struct Corpus {
    var state: UInt64
    let vocabulary: [String]
    let cumulative: [Double]
    static let tags = (0..<30).map { "tag\($0)" }
    static let statuses = ["todo", "in_progress", "done", "cancelled"]

    init(seed: UInt64) {
        state = seed
        let syllables = [
            "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "dre", "fen", "gol", "hax", "jor", "lun", "mor", "nix", "osk",
        ]
        var words: [String] = []
        var seen = Set<String>()
        var generator = seed &+ 7
        while words.count < 20_000 {
            var word = ""
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = 2 + Int((generator >> 33) % 3)
            for index in 0..<length { word += syllables[Int((generator >> UInt64(8 + index * 5)) % UInt64(syllables.count))] }
            if seen.insert(word).inserted { words.append(word) }
        }
        vocabulary = words
        var total = 0.0
        cumulative = (1...words.count).map { rank in
            total += 1 / Double(rank)
            return total
        }
    }

    /// splitmix64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func word() -> String {
        let target = Double(next() % 1_000_000_000) / 1_000_000_000 * (cumulative.last ?? 1)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return vocabulary[low]
    }

    mutating func words(_ range: ClosedRange<Int>) -> String {
        let count = range.lowerBound + next(range.count)
        return (0..<count).map { _ in word() }.joined(separator: " ")
    }

    mutating func task(tenant: UUID, id: UUID, version: Int) throws -> EventEnvelope {
        let tags = (0..<next(4)).map { _ in Self.tags[next(Self.tags.count)] }
        let payload = TaskChanged(
            taskId: id, tenantId: tenant, projectId: nil, parentId: nil, title: words(3...6).capitalized, description: words(12...30),
            status: Self.statuses[next(Self.statuses.count)], priority: next(5), tags: Array(Set(tags)), dueAt: nil, assigneeId: nil,
            version: version, occurredAt: Date())
        return try .make(
            payload, type: version == 1 ? TaskChanged.created : TaskChanged.updated, on: Topics.tasksTask, source: "/bench", tenantID: tenant)
    }

    /// A tenant index drawn with Zipf weights (the large tenants get the most updates).
    mutating func zipfTenant(_ count: Int) -> Int {
        let harmonic = (1...count).reduce(0.0) { $0 + 1 / Double($1) }
        var target = Double(next() % 1_000_000) / 1_000_000 * harmonic
        for rank in 1...count {
            target -= 1 / Double(rank)
            if target <= 0 { return rank - 1 }
        }
        return count - 1
    }

    /// Sizes proportional to 1/rank that add up to `total`.
    static func zipfSizes(total: Int, parts: Int) -> [Int] {
        let harmonic = (1...parts).reduce(0.0) { $0 + 1 / Double($1) }
        var sizes = (1...parts).map { max(1, Int(Double(total) / Double($0) / harmonic)) }
        sizes[0] += total - sizes.reduce(0, +)
        return sizes
    }

    /// Typical queries: words of middling frequency (ranks 20-520), so answers are neither
    /// empty nor the whole tenant; the typo swaps two letters of a rarer word.
    func query(_ kind: QueryKind, round: Int) -> String {
        let word = vocabulary[20 + (round * 37) % 500]
        let other = vocabulary[100 + (round * 53) % 900]
        switch kind {
        case .oneWord: return "q=\(word)"
        case .twoWords: return "q=\(word)%20\(other)"
        case .prefix: return "q=\(String(word.prefix(4)))"
        case .typo:
            var letters = Array(vocabulary[2000 + (round * 31) % 5000])
            letters.swapAt(1, 2)
            return "q=\(String(letters))"
        case .facets: return "q=\(word)&facets=type,tags,status"
        }
    }
}
