import Contracts
import Foundation
import TestSupport
import Testing

@testable import Search

func task(
    _ tenant: UUID, _ title: String, description: String? = nil, status: String = "todo", tags: [String] = [], priority: Int = 0,
    project: UUID? = nil
) throws -> EventEnvelope {
    let payload = TaskChanged(
        taskId: .v7(), tenantId: tenant, projectId: project, parentId: nil, title: title, description: description, status: status,
        priority: priority, tags: tags, dueAt: nil, assigneeId: nil, version: 1, occurredAt: Date())
    return try .make(payload, type: TaskChanged.created, on: Topics.tasksTask, source: "/tests", tenantID: tenant)
}

func index(_ events: [EventEnvelope]) async throws {
    _ = try await SearchServer.shared.get()
    try await withDatabase("search") { database in
        let indexer = testIndexer(database)
        for event in events { try await indexer.handle(event) }
    }
}

@Suite("search queries")
struct SearchQueryTests {
    @Test("the last word matches as a prefix, for search as you type")
    func prefix() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "Feed the quokka"), try task(tenant, "Water the plants")])
        #expect(hitTitles(try await search("q=feed%20the%20quo", tenant: tenant)) == ["Feed the quokka"])
        #expect(hitTitles(try await search("q=quok", tenant: tenant)) == ["Feed the quokka"])
    }

    @Test("a prefix is completed in titles first, and in descriptions when titles give less than a page")
    func prefixInDescriptions() async throws {
        let tenant = UUID.v7()
        try await index([
            try task(tenant, "Feed the quokka"), try task(tenant, "Brush the quokka"),
            try task(tenant, "Water the plants", description: "The quokkas drink it too"),
        ])
        let all = hitTitles(try await search("q=quok", tenant: tenant))
        #expect(Set(all.prefix(2)) == ["Feed the quokka", "Brush the quokka"] && all.last == "Water the plants")
        // Pages of one: titles fill each, so the description is not searched.
        let first = try await search("q=quok&limit=1", tenant: tenant)
        let cursor = try #require(first.string("nextCursor"))
        let second = try await search("q=quok&limit=1&cursor=\(cursor)", tenant: tenant)
        #expect(Set(hitTitles(first) + hitTitles(second)) == ["Feed the quokka", "Brush the quokka"])
        #expect(second.string("nextCursor") == nil)
        #expect(hitTitles(try await search("q=plants%20dri", tenant: tenant)) == ["Water the plants"])
    }

    @Test("a transposed letter still finds the title (trigram fallback)")
    func typo() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "Feed the quokka"), try task(tenant, "Water the plants")])
        #expect(hitTitles(try await search("q=qoukka", tenant: tenant)) == ["Feed the quokka"])
    }

    @Test("a misspelt word is corrected from the tenant's title words: in a tenant of 1,500 other titles, on every page, with other words")
    func typoInALargeTenant() async throws {
        let tenant = UUID.v7()
        _ = try await SearchServer.shared.get()
        _ = try await withDatabase("search") { database in
            try await testIndexer(database).apply(
                try (0..<1500).map { try task(tenant, "Quota review \($0) for the quorum") } + [
                    try task(tenant, "Feed the quokka"), try task(tenant, "Brush the quokka"),
                ])
        }
        #expect(Set(hitTitles(try await search("q=qoukka", tenant: tenant))) == ["Feed the quokka", "Brush the quokka"])
        // Corrected words are matched and ranked like typed ones, so paging goes on.
        let first = try await search("q=qoukka&limit=1", tenant: tenant)
        let cursor = try #require(first.string("nextCursor"))
        #expect(hitTitles(try await search("q=qoukka&limit=1&cursor=\(cursor)", tenant: tenant)).count == 1)
        #expect(hitTitles(try await search("q=feed%20qoukka", tenant: tenant)) == ["Feed the quokka"])
        // Short words (mostly stop words) are left out of the corrected query.
        #expect(hitTitles(try await search("q=feed%20a%20qoukka%27s", tenant: tenant)) == ["Feed the quokka"])
    }

    @Test("stemming: 'running' finds 'runs'; names and codes match unstemmed")
    func stemming() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "She runs the marathon"), try task(tenant, "Ticket ABC-123 for Nguyen")])
        #expect(hitTitles(try await search("q=running", tenant: tenant)) == ["She runs the marathon"])
        #expect(hitTitles(try await search("q=nguyen", tenant: tenant)) == ["Ticket ABC-123 for Nguyen"])
    }

    @Test("filters by type, tags, status, project and priority, with facet counts over all matches")
    func filtersAndFacets() async throws {
        let tenant = UUID.v7()
        let project = UUID.v7()
        try await index([
            try task(tenant, "Pack the tent", status: "todo", tags: ["camping", "gear"], priority: 3, project: project),
            try task(tenant, "Buy a tent peg", status: "done", tags: ["camping"], priority: 1),
            try task(tenant, "Tent repair kit", status: "todo", tags: ["gear"], priority: 3),
        ])
        let all = try await search("q=tent&facets=type,tags,status", tenant: tenant)
        #expect(all.status == 200)
        let facets = try #require(all.json["facets"] as? [String: [String: Int]])
        #expect(facets["type"] == ["task": 3])
        #expect(facets["tags"] == ["camping": 2, "gear": 2])
        #expect(facets["status"] == ["todo": 2, "done": 1])
        #expect(Set(hitTitles(try await search("q=tent&status=todo", tenant: tenant))) == ["Pack the tent", "Tent repair kit"])
        #expect(hitTitles(try await search("q=tent&tags=camping,gear", tenant: tenant)) == ["Pack the tent"])
        #expect(hitTitles(try await search("q=tent&projectId=\(project.uuidString)", tenant: tenant)) == ["Pack the tent"])
        #expect(Set(hitTitles(try await search("tags=gear&priority=3", tenant: tenant))) == ["Pack the tent", "Tent repair kit"])
        #expect(hitTitles(try await search("q=tent&types=project", tenant: tenant)).isEmpty)
    }

    @Test("the match markers of a snippet become <mark>, other text is kept as it is")
    func highlightMarkers() {
        #expect(
            DocumentStore.highlight("Caf\u{e9} \u{1}quokka\u{2} &amp; \u{1}\u{1F998}\u{2}")
                == "Caf\u{e9} <mark>quokka</mark> &amp; <mark>\u{1F998}</mark>")
        #expect(DocumentStore.highlight("") == "")
    }

    @Test("snippets mark the matched words and escape everything else, <script> included")
    func snippets() async throws {
        let tenant = UUID.v7()
        try await index([try task(tenant, "<script>alert(1)</script> wombat", description: "")])
        let answer = try await search("q=wombat", tenant: tenant)
        let snippet = try #require((answer.json["hits"] as? [[String: Any]])?.first?["snippet"] as? String)
        #expect(snippet.contains("&lt;script&gt;"))
        #expect(!snippet.contains("<script>"))
        #expect(snippet.contains("<mark>wombat</mark>"))
    }

    @Test("an unknown facet or filter value out of bounds answers 422; the query text is never SQL")
    func badInput() async throws {
        let tenant = UUID.v7()
        #expect(try await search("q=x&facets=colour", tenant: tenant).status == 422)
        #expect(try await search("q=", tenant: tenant).status == 422)
        #expect(try await search("status=\(String(repeating: "x", count: 101))", tenant: tenant).status == 422)
        let injection = try await search("q=%27%29%3B%20DROP%20TABLE%20documents%3B%20--%20%3A*%20%26%20%21", tenant: tenant)
        #expect(injection.status == 200)
        #expect(try await search("q=x&limit=101", tenant: tenant).status == 422)
    }
}
