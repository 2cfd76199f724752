import Contracts
import Foundation
import Messaging
import Persistence
import TestSupport
import Testing

@testable import Search

@Suite("batched indexing")
struct BatchIndexingTests {
    @Test("a burst of updates to one document in a batch is one write of the newest version, whatever the order")
    func coalesced() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            let task = UUID.v7()
            var burst = try (1...50).map { try taskChanged(tenant: tenant, task: task, title: "Capybara draft \($0)", version: $0) }
            burst.shuffle()
            let changed = try await testIndexer(database).apply(burst)
            #expect(changed == 1)
            #expect(hitTitles(try await search("q=capybara", tenant: tenant)) == ["Capybara draft 50"])
        }
    }

    @Test("an update that changes neither title, body nor tags keeps the stored vectors; a new title computes them again")
    func vectorsOnlyForNewText() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            let task = UUID.v7()
            let indexer = testIndexer(database)
            try await indexer.apply([try taskChanged(tenant: tenant, task: task, title: "Okapi census", version: 1)])
            // A marker no parse of the text can give: only a recomputation would replace it.
            func vectors() async throws -> (String, String, String?) {
                try await database.withTenant(tenant) { connection in
                    let rows = try await connection.query(
                        "SELECT search::text, title_vector::text, facets->>'status' FROM search.documents WHERE doc_id = \(task)",
                        logger: database.logger)
                    for try await row in rows.decode((String, String, String?).self) { return row }
                    return ("", "", nil)
                }
            }
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "UPDATE search.documents SET search = 'marker'::tsvector, title_vector = 'marker'::tsvector WHERE doc_id = \(task)",
                    logger: database.logger)
            }
            try await indexer.apply([try taskChanged(tenant: tenant, task: task, title: "Okapi census", status: "done", version: 2)])
            let (kept, keptTitle, status) = try await vectors()
            #expect(kept == "'marker'" && keptTitle == "'marker'")
            #expect(status == "done")
            try await indexer.apply([try taskChanged(tenant: tenant, task: task, title: "Okapi survey", status: "done", version: 3)])
            let (recomputed, recomputedTitle, _) = try await vectors()
            #expect(recomputed.contains("'survey'") && recomputedTitle.contains("'survey'"))
            #expect(hitTitles(try await search("q=survey", tenant: tenant)) == ["Okapi survey"])
        }
    }

    @Test("one batch writes documents of several tenants, each only visible to its own")
    func severalTenants() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let first = UUID.v7()
            let second = UUID.v7()
            let changed = try await testIndexer(database).apply([
                try taskChanged(tenant: first, title: "Axolotl tank"), try taskChanged(tenant: second, title: "Axolotl food"),
                try taskChanged(tenant: first, title: "Axolotl lights"),
            ])
            #expect(changed == 3)
            #expect(Set(hitTitles(try await search("q=axolotl", tenant: first))) == ["Axolotl tank", "Axolotl lights"])
            #expect(hitTitles(try await search("q=axolotl", tenant: second)) == ["Axolotl food"])
        }
    }

    @Test("a poison event in a batch is recorded and dead-lettered; the rest of the batch is indexed")
    func poisonInBatch() async throws {
        _ = try await SearchServer.shared.get()
        let reader = try TopicReader(topic: "dlq.search")
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            var broken = try taskChanged(tenant: tenant, title: "never")
            broken.data = Data("{\"taskId\": 42".utf8)
            let poison = broken
            try await testIndexer(database).apply([
                try taskChanged(tenant: tenant, title: "Tapir one"), poison, try taskChanged(tenant: tenant, title: "Tapir two"),
            ])
            #expect(Set(hitTitles(try await search("q=tapir", tenant: tenant))) == ["Tapir one", "Tapir two"])
            let dead = try await reader.first(timeout: .seconds(20)) { $0.headers["ce_id"] == poison.id.uuidString.lowercased() }
            #expect(dead?.headers["dlq_topic"] == Topics.tasksTask.name)
            #expect(dead?.headers["dlq_error"] == "the payload does not decode as its event type")
            #expect(dead.map { Data($0.value) } == poison.data)
        }
        await reader.close()
    }

    @Test("a document that cannot be written is retried by a job, then marked failed and dead-lettered; its batch is indexed")
    func failingDocument() async throws {
        _ = try await SearchServer.shared.get()
        let reader = try TopicReader(topic: "dlq.search")
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            // A producer that counts versions in 64 bits: the index keeps 32-bit versions.
            let huge = try taskChanged(tenant: tenant, title: "Enormous sloth", version: 3_000_000_000)
            try await testIndexer(database).apply([try taskChanged(tenant: tenant, title: "Tiny sloth"), huge])
            #expect(hitTitles(try await search("q=sloth", tenant: tenant)) == ["Tiny sloth"])
            // Retrying, or (on a machine slow enough for the retries to run first) failed already.
            let recorded = try await adminGET("/v1/admin/search/failures", tenant: tenant)
            let states = ((recorded.json["items"] as? [[String: Any]]) ?? []).compactMap { $0["state"] as? String }
            #expect(states.count == 1 && ["retrying", "failed"].contains(states.first ?? ""), "\(states)")
            let failed = try await eventually(timeout: .seconds(30)) {
                let page = try await adminGET("/v1/admin/search/failures?state=failed", tenant: tenant)
                return (page.json["items"] as? [[String: Any]])?.first?["attempts"] as? Int == 1 + fastRetries.maxAttempts
            }
            #expect(failed)
            let page = try await adminGET("/v1/admin/search/failures", tenant: tenant)
            let failure = try #require((page.json["items"] as? [[String: Any]])?.first)
            #expect((failure["error"] as? String)?.contains("out of range") == true, "\(failure["error"] ?? "")")
            #expect(failure["docId"] as? String == huge.key)
            let dead = try await reader.first(timeout: .seconds(20)) { $0.headers["ce_id"] == huge.id.uuidString.lowercased() }
            #expect(dead?.headers["dlq_failure"] != nil)
            let replay = try await adminPOST("/v1/admin/search/failures/\(failure["id"] as? String ?? "")/replay", tenant: tenant)
            #expect(replay.status == 422)
        }
        await reader.close()
    }

    @Test("replaying a failure indexes its event and resolves it")
    func replay() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            let event = try taskChanged(tenant: tenant, title: "Recovered gecko")
            // As if the event had failed before the mapper learned its type.
            try await testIndexer(database).failures.recordPoison(event, error: "unknown at the time")
            let page = try await adminGET("/v1/admin/search/failures?state=failed", tenant: tenant)
            let id = try #require((page.json["items"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await adminGET("/v1/admin/search/failures/\(id)", tenant: .v7()).status == 404)
            #expect(try await adminPOST("/v1/admin/search/failures/\(id)/replay", tenant: .v7()).status == 404)
            let replayed = try await adminPOST("/v1/admin/search/failures/\(id)/replay", tenant: tenant)
            #expect(replayed.status == 200)
            #expect(replayed.string("state") == "resolved")
            #expect(hitTitles(try await search("q=gecko", tenant: tenant)) == ["Recovered gecko"])
        }
    }

    @Test("bulk replay resolves what now indexes and lists what still fails")
    func replayAll() async throws {
        _ = try await SearchServer.shared.get()
        try await withDatabase("search") { database in
            let tenant = UUID.v7()
            let failures = testIndexer(database).failures
            try await failures.recordPoison(try taskChanged(tenant: tenant, title: "Bulk heron"), error: "unknown at the time")
            var broken = try taskChanged(tenant: tenant, title: "never")
            broken.data = Data("not json".utf8)
            try await failures.recordPoison(broken, error: "does not decode")
            let answer = try await adminPOST("/v1/admin/search/failures/replay", tenant: tenant, json: ["since": "2020-01-01T00:00:00Z"])
            #expect(answer.status == 200)
            #expect(answer.json["replayed"] as? Int == 1)
            #expect((answer.json["stillFailing"] as? [String])?.count == 1)
            #expect(hitTitles(try await search("q=heron", tenant: tenant)) == ["Bulk heron"])
        }
    }

    @Test("failure routes refuse members, a bad state, bad ids and bad bodies")
    func badInput() async throws {
        let tenant = UUID.v7()
        #expect(try await adminGET("/v1/admin/search/failures", tenant: tenant, roles: ["member"]).status == 403)
        #expect(try await adminGET("/v1/admin/search/failures?state=gone", tenant: tenant).status == 422)
        #expect(try await adminGET("/v1/admin/search/failures?cursor=zz", tenant: tenant).status == 400)
        #expect(try await adminGET("/v1/admin/search/failures/not-a-uuid", tenant: tenant).status == 404)
        #expect(try await adminPOST("/v1/admin/search/failures/\(UUID())/replay", tenant: tenant).status == 404)
        let badSince = try await adminPOST("/v1/admin/search/failures/replay", tenant: tenant, json: ["since": "yesterday"])
        #expect(badSince.status == 422, "\(badSince.status) \(String(decoding: badSince.body, as: UTF8.self))")
    }
}
