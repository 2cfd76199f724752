import Contracts
import Foundation
import Messaging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import Search

/// Sends the events through the broker, as the tasks service's relay would.
func publish(_ events: [EventEnvelope]) async throws {
    let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "search-tests", logger: TestEnvironment.logger)
    for event in events {
        try await producer.send(OutgoingMessage(topic: event.topic, key: event.key, value: Array(event.data), headers: event.headers))
    }
    await producer.shutdown()
}

@Suite("index health and reindex")
struct IndexAdminTests {
    @Test("health reports the tenant's documents, the consumer's partitions with lag, failures and the live generation")
    func health() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        try await publish([try taskChanged(tenant: tenant, title: "Healthy lemur"), try taskChanged(tenant: tenant, title: "Healthy lynx")])
        let indexed = try await eventually(timeout: .seconds(40)) { hitTitles(try await search("q=healthy", tenant: tenant)).count == 2 }
        #expect(indexed)
        let reported = try await eventually(timeout: .seconds(20)) {
            let answer = try await adminGET("/v1/admin/search/health", tenant: tenant)
            let partitions = (answer.json["consumer"] as? [String: Any])?["partitions"] as? [[String: Any]] ?? []
            return partitions.count == Topics.tasksTask.partitions + Topics.tasksProject.partitions + Topics.photomlSession.partitions
        }
        #expect(reported)
        let answer = try await adminGET("/v1/admin/search/health", tenant: tenant)
        #expect(answer.status == 200)
        #expect((answer.json["documents"] as? [String: Any])?["task"] as? Int == 2)
        #expect(answer.string("lastIndexedAt") != nil)
        let consumer = try #require(answer.json["consumer"] as? [String: Any])
        let partitions = consumer["partitions"] as? [[String: Any]] ?? []
        for partition in partitions {
            let committed = partition["committed"] as? Int ?? -1
            let high = partition["highWatermark"] as? Int ?? -1
            #expect(committed <= high && partition["lag"] as? Int == high - committed)
        }
        #expect(consumer["lag"] as? Int == partitions.reduce(0) { $0 + ($1["lag"] as? Int ?? 0) })
        #expect(partitions.contains { ($0["committed"] as? Int ?? 0) > 0 })
        #expect((answer.json["failures"] as? [String: Any])?["failed"] as? Int == 0)
        #expect((answer.json["generation"] as? [String: Any])?["live"] as? Int == 1)
        #expect(try await adminGET("/v1/admin/search/health", tenant: tenant, roles: ["member"]).status == 403)
    }

    @Test("a reindex rebuilds from the topics into a new generation while every query keeps answering, then switches")
    func reindexWhileQuerying() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        let tasks = (0..<20).map { _ in UUID.v7() }
        try await publish(try tasks.enumerated().map { try taskChanged(tenant: tenant, task: $0.element, title: "Marmot \($0.offset)") })
        let indexed = try await eventually(timeout: .seconds(40)) { hitTitles(try await search("q=marmot&limit=50", tenant: tenant)).count == 20 }
        #expect(indexed)

        let started = try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:])
        #expect(started.status == 202)
        let id = try #require(started.string("id"))
        #expect(try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:]).status == 409)
        // An update while the replay runs reaches the new generation too.
        try await publish([try taskChanged(tenant: tenant, task: tasks[0], title: "Marmot renamed", version: 2)])

        var answers: [Int] = []
        var state = "replaying"
        let deadline = ContinuousClock.now + .seconds(90)
        while state == "replaying", ContinuousClock.now < deadline {
            answers.append(hitTitles(try await search("q=marmot&limit=50", tenant: tenant)).count)
            state = try await adminGET("/v1/admin/search/reindex/\(id)", tenant: tenant).string("state") ?? "?"
        }
        #expect(state == "switched")
        #expect(!answers.isEmpty && answers.allSatisfy { $0 == 20 }, "\(answers)")
        let health = try await adminGET("/v1/admin/search/health", tenant: tenant)
        #expect((health.json["generation"] as? [String: Any])?["live"] as? Int == 2)
        let renamed = try await eventually(timeout: .seconds(30)) {
            hitTitles(try await search("q=marmot&limit=50", tenant: tenant)).contains("Marmot renamed")
        }
        #expect(renamed)
        #expect(hitTitles(try await search("q=marmot&limit=50", tenant: tenant)).count == 20)
        try await withDatabase("search") { database in
            let old = try await database.withTenant(tenant) { connection in
                try await connection.query("SELECT count(*)::int FROM search.documents WHERE generation = 1", logger: database.logger)
                    .decode(Int.self).first { _ in true }
            }
            #expect(old == 0)
        }
        #expect(try await adminGET("/v1/admin/search/reindex/\(id)", tenant: .v7()).status == 404)
        // The tenant has had its rebuild: the next one waits out the cooldown.
        let again = try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:])
        #expect(again.status == 429)
        #expect(Int(again.headers["retry-after"] ?? "") ?? 0 > 3000)
        #expect(try await adminPOST("/v1/admin/search/reindex", tenant: .v7(), json: [:]).status == 202)
    }

    @Test("reindexing every tenant needs a platform operator; a bad scope is refused")
    func reindexBadInput() async throws {
        let tenant = UUID.v7()
        #expect(try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: ["scope": "all"]).status == 403)
        #expect(try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: ["scope": "galaxy"]).status == 422)
        #expect(try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:], roles: ["member"]).status == 403)
        #expect(try await adminGET("/v1/admin/search/reindex/\(UUID())", tenant: tenant).status == 404)
    }
}

@Suite("document visibility")
struct VisibilityTests {
    @Test("a private task is found by its creator and assignee only; tenant tasks by everyone")
    func privateTasks() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        let creator = UUID.v7()
        let assignee = UUID.v7()
        let colleague = UUID.v7()
        _ = try await withDatabase("search") { database in
            try await testIndexer(database).apply([
                try taskChanged(tenant: tenant, title: "Private okapi plan", createdBy: creator, assignee: assignee, visibility: "private"),
                try taskChanged(tenant: tenant, title: "Shared okapi plan", createdBy: creator, visibility: "tenant"),
            ])
        }
        #expect(Set(hitTitles(try await search("q=okapi%20plan", tenant: tenant, user: creator))) == ["Private okapi plan", "Shared okapi plan"])
        #expect(Set(hitTitles(try await search("q=okapi%20plan", tenant: tenant, user: assignee))) == ["Private okapi plan", "Shared okapi plan"])
        #expect(hitTitles(try await search("q=okapi%20plan", tenant: tenant, user: colleague)) == ["Shared okapi plan"])
        // Nor through the typo pass or the facet counts.
        #expect(hitTitles(try await search("q=privte%20okpai", tenant: tenant, user: colleague)).isEmpty)
        let facets = try await search("q=okapi&facets=type", tenant: tenant, user: colleague)
        #expect(((facets.json["facets"] as? [String: Any])?["type"] as? [String: Any])?["task"] as? Int == 1)
    }
}

@Suite("index partitions")
struct PartitionTests {
    @Test("a tenant's documents are read through the partitioned table only; a partition read directly shows nothing")
    func partitionsHideRows() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        _ = try await withDatabase("search") { database in
            try await testIndexer(database).apply((0..<20).map { _ in try taskChanged(tenant: tenant, title: "Partitioned kiwi") })
            let (through, direct) = try await database.withTenant(tenant) { connection -> (Int, Int) in
                let through =
                    try await connection.query("SELECT count(*)::int FROM search.documents", logger: database.logger)
                    .decode(Int.self).first { _ in true } ?? -1
                var direct = 0
                for index in 0..<16 {
                    let name = "search.documents_p" + (index < 10 ? "0" : "") + String(index)
                    direct +=
                        try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(name)"), logger: database.logger)
                        .decode(Int.self).first { _ in true } ?? -1
                }
                return (through, direct)
            }
            #expect(through == 20)
            #expect(direct == 0)
        }
    }
}

@Suite("a failed reindex")
struct FailedReindexTests {
    @Test("a reindex that fails drops its building generation; the live one keeps answering and a new run can start")
    func failedRun() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        try await publish([try taskChanged(tenant: tenant, title: "Resilient quoll")])
        let indexed = try await eventually(timeout: .seconds(40)) { hitTitles(try await search("q=quoll", tenant: tenant)).count == 1 }
        #expect(indexed)
        let started = try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:])
        let id = try #require(started.string("id").flatMap(UUID.init(uuidString:)))
        try await withDatabase("search") { database in
            try await ReindexStore(database: database).fail(id, error: "stopped by the test")
        }
        let run = try await adminGET("/v1/admin/search/reindex/\(id.uuidString.lowercased())", tenant: tenant)
        #expect(run.string("state") == "failed")
        let health = try await adminGET("/v1/admin/search/health", tenant: tenant)
        let generation = health.json["generation"] as? [String: Any]
        #expect(generation?["live"] as? Int == 1 && generation?["building"] == nil)
        #expect(hitTitles(try await search("q=quoll", tenant: tenant)) == ["Resilient quoll"])
        let again = try await adminPOST("/v1/admin/search/reindex", tenant: tenant, json: [:])
        #expect(again.status == 202)
        let secondID = try #require(again.string("id"))
        let switched = try await eventually(timeout: .seconds(90)) {
            try await adminGET("/v1/admin/search/reindex/\(secondID)", tenant: tenant).string("state") == "switched"
        }
        #expect(switched)
        #expect(hitTitles(try await search("q=quoll", tenant: tenant)) == ["Resilient quoll"])
    }
}

@Suite("consumer lag metric")
struct ConsumerLagMetricTests {
    @Test("every consumer group of the service reports its lag per partition at /metrics, for the ConsumerLagging alert")
    func reported() async throws {
        let (url, _) = try await SearchServer.shared.get()
        let reported = try await eventually(timeout: .seconds(40)) {
            let text = String(decoding: try await TestHTTP.send("GET", "\(url)/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").contains {
                $0.hasPrefix("consumer_lag{group=\"search.indexer\"") && $0.contains("topic=\"tasks.task.v1\"")
            }
        }
        #expect(reported)
    }
}
