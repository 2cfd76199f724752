import Contracts
import Foundation
import Persistence
import TestSupport
import Testing

@testable import Experience

@Suite("the intake: fetched articles through its stages as batched jobs, each text scored once")
struct IntakeTests {
    static let text =
        "The ferry company will add a late sailing on Fridays from next month. The crossing takes forty minutes and the last boat "
        + "leaves the harbour at eleven. Tickets cost the same as on the day sailings."

    static func entry(_ id: String, title: String = "Late ferry on Fridays", text: String = Self.text) -> FeedEntry {
        FeedEntry(
            id: id, url: URL(string: "https://ferries.example/\(id)"), title: title, summary: nil, content: text, author: nil, publishedAt: Date(),
            categories: ["transport"])
    }

    static func source() -> Source {
        Source(
            id: UUID(), userId: nil, url: "https://ferries.example/feed", siteUrl: nil, title: "Ferries", format: "rss", state: .active, failures: 0,
            failingSince: nil, lastError: nil, nextFetchAt: Date(), lastFetchedAt: nil, fetched: 0, notModified: 0, failed: 0, itemsNew: 0,
            createdAt: Date())
    }

    /// Rows at normalise with no job queued for them: only the test moves them.
    static func place(_ entries: [FeedEntry], tenant: UUID, database: Database) async throws {
        let payloads = try entries.map { String(decoding: try PlatformJSON.encoder.encode($0), as: UTF8.self) }
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO experience.intake (tenant_id, key, source_id, provider, stage, entry)
                SELECT \(tenant), k, \(UUID()), 'Ferries', 'normalise', e::jsonb FROM unnest(\(entries.map(FeedItems.key))::text[], \(payloads)::text[]) AS x(k, e)
                """, logger: database.logger)
        }
    }

    /// Until `condition` holds, for as long as five stages' jobs can take in a whole-suite run:
    /// alone they take milliseconds, beside every other suite on two cores seconds each.
    static func throughTheJobs(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        try await eventually(timeout: .seconds(90), condition)
    }

    static func itemKeys(tenant: UUID, database: Database) async throws -> Set<String> {
        try await database.withTenant(tenant) { connection in
            try await connection.query("SELECT key FROM experience.items WHERE tenant_id = \(tenant)", logger: database.logger).collect()
                .reduce(into: Set<String>()) { $0.insert(try $1.decode(String.self)) }
        }
    }

    @Test("queued articles become items, summarised, labelled and clustered, through the five stages' jobs")
    func throughTheStages() async throws {
        let reader = try await Reader.fresh(roles: ["member"])
        try await withDatabase("experience") { database in
            let store = IntakeStore(database: database)
            let entries = [
                Self.entry("a"), Self.entry("b", title: "Museum reopens", text: Self.text.replacingOccurrences(of: "ferry", with: "museum")),
            ]
            #expect(try await store.queue(entries, from: Self.source(), tenant: reader.tenant) == 2)
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: reader.tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: reader.tenant, database: database) == Set(entries.map(FeedItems.key)))
            // Queued again (the feed fetched again): already in the catalogue, nothing queued.
            #expect(try await store.queue(entries, from: Self.source(), tenant: reader.tenant) == 0)
            let same = try await StoryClusterStore(database: database).sameStory(as: FeedItems.key(entries[0]), tenant: reader.tenant)
            #expect(same?.items.map(\.key) == [FeedItems.key(entries[1])], "a one-word rewrite is the same story")
        }
    }

    @Test("a text already scored is not scored again: its kept result decides, whatever its address")
    func keptResults() async throws {
        let reader = try await Reader.fresh(roles: ["member"])
        try await withDatabase("experience") { database in
            let store = IntakeStore(database: database)
            let first = Self.entry("first")
            #expect(try await store.queue([first], from: Self.source(), tenant: reader.tenant) == 1)
            #expect(try await Self.throughTheJobs { try await Self.itemKeys(tenant: reader.tenant, database: database) == [FeedItems.key(first)] })
            // The same title and text at another address: not a second item.
            let copy = Self.entry("copy")
            #expect(try await store.queue([copy], from: Self.source(), tenant: reader.tenant) == 1)
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: reader.tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: reader.tenant, database: database) == [FeedItems.key(first)])
            // A text kept as rejected stays out without being scored: here a result planted for
            // a good text, which scoring would pass.
            let good = Self.entry("good", title: "Bridge repairs end early", text: Self.text.replacingOccurrences(of: "ferry", with: "bridge"))
            let hash = FeedItems.normalise(good, sourceId: UUID(), provider: "", now: Date()).contentHash
            _ = try await database.withTenant(reader.tenant) { connection in
                try await connection.query(
                    """
                    INSERT INTO experience.article_results (tenant_id, content_hash, quality, reasons)
                    VALUES (\(reader.tenant), \(hash), 0.1, '{"spam phrases"}')
                    """, logger: database.logger)
            }
            #expect(try await store.queue([good], from: Self.source(), tenant: reader.tenant) == 1)
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: reader.tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: reader.tenant, database: database) == [FeedItems.key(first)])
        }
    }

    @Test("a stage takes at most its batch and queues another job for the rest; a batch that fails is left where it was")
    func batches() async throws {
        let tenant = UUID()
        try await withDatabase("experience") { database in
            _ = try await Reader.fresh()
            let store = IntakeStore(database: database)
            let entries = (0..<5).map { Self.entry("n\($0)", title: "Notice \($0)", text: Self.text + " Notice number \($0) of five.") }
            try await Self.place(entries, tenant: tenant, database: database)
            struct Broken: Error {}
            await #expect(throws: Broken.self) { try await store.advance(.normalise, tenant: tenant, limit: 2) { _ in throw Broken() } }
            #expect(try await store.waiting(tenant: tenant) == [.normalise: 5])
            #expect(try await store.advance(.normalise, tenant: UUID(), limit: 2) { _ in IntakeStore.Outcome() } == 0, "another tenant's rows unseen")
            let taken = try await store.advance(.normalise, tenant: tenant, limit: 2) { batch in
                IntakeStore.Outcome(
                    advanced: batch.rows.map { FeedItems.normalise($0.entry, sourceId: $0.sourceId, provider: $0.provider, now: Date()) })
            }
            #expect(taken == 2)
            #expect(try await store.waiting(tenant: tenant)[.quality] == 2)
            // The jobs queued by that full batch (another normalise, and quality) carry the rest through.
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: tenant, database: database) == Set(entries.map(FeedItems.key)))
        }
    }

    @Test("articles left at a stage with no job (its last one discarded) are queued again by the upkeep, once")
    func stalled() async throws {
        let tenant = UUID()
        try await withDatabase("experience") { database in
            _ = try await Reader.fresh()
            let store = IntakeStore(database: database)
            let entries = [Self.entry("s1", title: "Stalled notice"), Self.entry("s2", title: "Another stalled notice", text: Self.text + " Again.")]
            try await Self.place(entries, tenant: tenant, database: database)
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "UPDATE experience.intake SET created_at = now() - interval '11 minutes' WHERE tenant_id = \(tenant)", logger: database.logger)
            }
            // The service's minutely upkeep does the same; whichever comes first queues the job.
            _ = try await store.resumeStalled()
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: tenant, database: database) == Set(entries.map(FeedItems.key)))
            let normalised = try await database.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*) FROM experience.jobs WHERE tenant_id = \(tenant) AND kind = 'experience.intake-normalise'",
                    logger: database.logger
                ).collect().first?.decode(Int.self)
            }
            #expect(normalised == 1)
        }
    }

    @Test("an article the database refuses is dropped on its own; the rest of its batch goes on")
    func refusedArticle() async throws {
        let reader = try await Reader.fresh(roles: ["member"])
        try await withDatabase("experience") { (database: Database) async throws -> Void in
            let store = IntakeStore(database: database)
            // An empty title passes every stage but the catalogue's check on titles.
            let entries: [FeedEntry] = [
                Self.entry("p1", title: "Ferry timetable changes"), Self.entry("p2", title: "", text: Self.text + " Without a title."),
                Self.entry("p3", title: "Harbour toll rises", text: Self.text + " The toll rises too."),
            ]
            let passed: Set<String> = [FeedItems.key(entries[0]), FeedItems.key(entries[2])]
            #expect(try await store.queue(entries, from: Self.source(), tenant: reader.tenant) == 3)
            #expect(try await Self.throughTheJobs { try await store.waiting(tenant: reader.tenant).isEmpty })
            #expect(try await Self.itemKeys(tenant: reader.tenant, database: database) == passed)
        }
    }
}
