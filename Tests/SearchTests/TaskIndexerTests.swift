import Contracts
import Foundation
import Messaging
import Persistence
import TestSupport
import Testing

@testable import Search

@Suite("indexing task events")
struct TaskIndexerTests {
    @Test("a redelivered event is applied once, and an older version never overwrites a newer one")
    func idempotentAndOrdered() async throws {
        _ = try await SearchServer.shared.get()  // migrations applied
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            let task = UUID.v7()
            let v1 = try taskChanged(tenant: tenant, task: task, title: "Quarterly zebra report", version: 1)
            let v2 = try taskChanged(tenant: tenant, task: task, title: "Annual zebra report", version: 2)
            try await indexer.handle(v1)
            try await indexer.handle(v2)
            try await indexer.handle(v1)  // redelivered and older
            try await indexer.handle(v2)  // redelivered
            let answer = try await search("q=zebra", tenant: tenant)
            #expect(hitTitles(answer) == ["Annual zebra report"])
        }
    }

    @Test("an update's words replace the old ones: the old title and description find nothing, the new ones find the task")
    func updatedWords() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            let task = UUID.v7()
            try await indexer.handle(
                try taskChanged(tenant: tenant, task: task, title: "Feed the axolotl", description: "Tank by the marimba", version: 1))
            try await indexer.handle(
                try taskChanged(tenant: tenant, task: task, title: "Groom the wombat", description: "Pen by the xylophone", version: 2))
            #expect(hitTitles(try await search("q=axolotl", tenant: tenant)).isEmpty)
            #expect(hitTitles(try await search("q=marimba", tenant: tenant)).isEmpty)
            #expect(hitTitles(try await search("q=wombat", tenant: tenant)) == ["Groom the wombat"])
            #expect(hitTitles(try await search("q=xylophone", tenant: tenant)) == ["Groom the wombat"])
        }
    }

    @Test("an update's title replaces the old one for search as you type too")
    func updatedTitlePrefixes() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            for task in [UUID.v7(), UUID.v7()] {
                try await indexer.handle(try taskChanged(tenant: tenant, task: task, title: "Feed the axolotl", version: 1))
                try await indexer.handle(try taskChanged(tenant: tenant, task: task, title: "Groom the wombat", version: 2))
            }
            // Pages of one: two titles completing the prefix fill a page, and the whole text is not searched.
            #expect(hitTitles(try await search("q=axolo&limit=1", tenant: tenant)).isEmpty)
            #expect(hitTitles(try await search("q=womb&limit=1", tenant: tenant)) == ["Groom the wombat"])
        }
    }

    @Test("a status change keeps the task's words searchable and moves it between status filters; a later text change still replaces the words")
    func statusChange() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            let task = UUID.v7()
            try await indexer.handle(try taskChanged(tenant: tenant, task: task, title: "Brush the pangolin", description: "Scales", version: 1))
            try await indexer.handle(
                try taskChanged(tenant: tenant, task: task, title: "Brush the pangolin", description: "Scales", status: "done", version: 2))
            #expect(hitTitles(try await search("q=pangolin&status=done", tenant: tenant)) == ["Brush the pangolin"])
            #expect(hitTitles(try await search("q=scales&status=done", tenant: tenant)) == ["Brush the pangolin"])
            #expect(hitTitles(try await search("q=pangolin&status=todo", tenant: tenant)).isEmpty)
            try await indexer.handle(
                try taskChanged(tenant: tenant, task: task, title: "Brush the tapir", description: "Scales", status: "done", version: 3))
            #expect(hitTitles(try await search("q=pangolin", tenant: tenant)).isEmpty)
            #expect(hitTitles(try await search("q=tapir&status=done", tenant: tenant)) == ["Brush the tapir"])
        }
    }

    @Test("a deleted task disappears and a late update cannot bring it back")
    func deletion() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            let tenant = UUID.v7()
            let task = UUID.v7()
            try await indexer.handle(try taskChanged(tenant: tenant, task: task, title: "Ephemeral walrus", version: 1))
            let deleted = try EventEnvelope.make(
                TaskDeleted(taskId: task, tenantId: tenant, version: 3, occurredAt: Date()),
                type: TaskDeleted.type, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
            try await indexer.handle(deleted)
            try await indexer.handle(try taskChanged(tenant: tenant, task: task, title: "Ephemeral walrus", version: 2))
            #expect(hitTitles(try await search("q=walrus", tenant: tenant)).isEmpty)
        }
    }

    @Test("a payload whose tenant differs from its ce_tenantid is not indexed but recorded as failed")
    func tenantMismatch() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            var event = try taskChanged(tenant: .v7(), title: "Smuggled ocelot")
            event.tenantID = .v7()
            try await testIndexer(database).handle(event)
            #expect(hitTitles(try await search("q=ocelot", tenant: event.tenantID)).isEmpty)
            let failures = try await adminGET("/v1/admin/search/failures?state=failed", tenant: event.tenantID)
            let items = failures.json["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(items.first?["error"] as? String == "payload tenant differs from ce_tenantid")
        }
    }
}

@Suite("search API")
struct SearchRoutesTests {
    @Test("a tenant finds its own tasks and never another tenant's")
    func isolation() async throws {
        _ = try await SearchServer.shared.get()
        let mine = UUID.v7()
        let theirs = UUID.v7()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            try await indexer.handle(try taskChanged(tenant: mine, title: "Budget for the narwhal project", description: "Spreadsheet of costs"))
            try await indexer.handle(try taskChanged(tenant: theirs, title: "Secret narwhal acquisition"))
        }
        let answer = try await search("q=narwhal", tenant: mine)
        #expect(answer.status == 200)
        #expect(hitTitles(answer) == ["Budget for the narwhal project"])
        let hit = try #require((answer.json["hits"] as? [[String: Any]])?.first)
        #expect(hit["type"] as? String == "task")
        #expect((hit["score"] as? Double ?? 0) > 0)
        #expect(answer.json["queryId"] != nil && answer.json["tookMs"] != nil)
        #expect(hitTitles(try await search("q=narwhal", tenant: .v7())).isEmpty)
    }

    @Test("a missing query, an unknown type or a bad limit answer 422; a bad cursor 400")
    func badInput() async throws {
        let tenant = UUID.v7()
        #expect(try await search("", tenant: tenant).status == 422)
        #expect(try await search("q=%20%20", tenant: tenant).status == 422)
        #expect(try await search("q=x&types=spaceship", tenant: tenant).status == 422)
        let badLimit = try await search("q=x&limit=0", tenant: tenant)
        #expect(badLimit.status == 422, "\(String(decoding: badLimit.body, as: UTF8.self))")
        #expect(try await search("q=x&cursor=zz", tenant: tenant).status == 400)
        // Query syntax a user might type must not reach the user as a database error.
        #expect(try await search("q=%22unterminated%20%26%20%7C%20!(", tenant: tenant).status == 200)
        let (url, _) = try await SearchServer.shared.get()
        #expect(try await TestHTTP.send("GET", "\(url)/v1/search?q=x").status == 401)
    }

    @Test("results page with a cursor")
    func paging() async throws {
        _ = try await SearchServer.shared.get()
        let tenant = UUID.v7()
        try await withDatabase("search") { database in
            let indexer = testIndexer(database)
            for index in 0..<3 { try await indexer.handle(try taskChanged(tenant: tenant, title: "Okapi task \(index)")) }
        }
        let first = try await search("q=okapi&limit=2", tenant: tenant)
        #expect(hitTitles(first).count == 2)
        let cursor = try #require(first.string("nextCursor"))
        let second = try await search("q=okapi&limit=2&cursor=\(cursor)", tenant: tenant)
        #expect(hitTitles(second).count == 1)
        #expect(Set(hitTitles(first) + hitTitles(second)).count == 3)
    }
}

@Suite("the search consumer")
struct SearchConsumerTests {
    @Test("a poison message lands in dlq.search and the consumer goes on")
    func poison() async throws {
        _ = try await SearchServer.shared.get()
        let reader = try TopicReader(topic: "dlq.search")
        let producer = try KafkaProducer(brokers: TestEnvironment.kafkaBrokers, clientID: "test", logger: TestEnvironment.logger)
        let tenant = UUID.v7()
        let good = try taskChanged(tenant: tenant, title: "Pangolin after poison")
        var poisonHeaders = good.headers.filter { $0.0 != "ce_id" }
        let poisonID = UUID().uuidString.lowercased()
        poisonHeaders.append(("ce_id", poisonID))
        try await producer.send(
            OutgoingMessage(topic: Topics.tasksTask.name, key: good.key, value: Array("{\"taskId\": 42".utf8), headers: poisonHeaders))
        try await producer.send(OutgoingMessage(topic: Topics.tasksTask.name, key: good.key, value: Array(good.data), headers: good.headers))
        #expect(
            try await eventually(timeout: .seconds(40)) { hitTitles(try await search("q=pangolin", tenant: tenant)) == ["Pangolin after poison"] })
        let dead = try await reader.first(timeout: .seconds(20)) { $0.headers["ce_id"] == poisonID }
        #expect(dead?.headers["dlq_topic"] == Topics.tasksTask.name)
        await producer.shutdown()
        await reader.close()
    }
}
