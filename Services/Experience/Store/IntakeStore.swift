import Contracts
import Foundation
import Jobs
import Logging
import Persistence
import PostgresNIO

/// Fetched articles between the feed and the catalogue: queued by a fetch, moved through the
/// stages a batch at a time, each batch in one transaction with the next stage's job.
struct IntakeStore: Sendable {
    let database: Database

    /// A row as a stage sees it: the entry as fetched and, after normalise, the article.
    struct Row: Sendable {
        var key: String
        var sourceId: UUID
        var provider: String
        var entry: FeedEntry
        var article: IntakeArticle?
    }

    /// What a stage made of its batch.
    struct Outcome: Sendable {
        /// On to the next stage, as they are now (after the last stage: done).
        var advanced: [IntakeArticle] = []
        /// Out of the intake here (rejected, or the same text as an article already taken).
        var dropped: [String] = []
        /// Results to keep by content hash (an existing one is marked seen).
        var results: [ArticleResult] = []
        /// New catalogue items.
        var items: [ItemDraft] = []
        /// Articles to put in their story's cluster, by the text they are compared by.
        var clusters: [(key: String, text: String)] = []
    }

    /// A stage's batch, locked for the stage's transaction.
    struct Batch: Sendable {
        let rows: [Row]
        let connection: PostgresConnection
        let tenant: UUID
        let logger: Logger

        /// The results already kept for these content hashes.
        func results(for hashes: [String]) async throws -> [String: ArticleResult] {
            guard !hashes.isEmpty else { return [:] }
            var found: [String: ArticleResult] = [:]
            for try await (hash, quality, reasons, summary, item) in try await connection.query(
                """
                SELECT content_hash, quality::float8, reasons, summary, item_key FROM experience.article_results
                WHERE tenant_id = \(tenant) AND content_hash = ANY(\(hashes))
                """, logger: logger
            ).decode((String, Double, [String], String, String?).self) {
                found[hash] = ArticleResult(contentHash: hash, quality: quality, reasons: reasons, summary: summary, itemKey: item)
            }
            return found
        }
    }

    /// Queues the entries not yet in the catalogue nor on their way; answers how many were
    /// queued. The first stage's job is queued with them.
    @discardableResult
    func queue(_ entries: [FeedEntry], from source: Source, tenant: UUID) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        var seen: Set<String> = []
        let unique = entries.filter { seen.insert(FeedItems.key($0)).inserted }
        let payloads = try unique.map { String(decoding: try PlatformJSON.encoder.encode($0), as: UTF8.self) }
        return try await database.withTenant(tenant) { connection in
            let queued = try await connection.query(
                """
                INSERT INTO experience.intake (tenant_id, key, source_id, provider, stage, entry)
                SELECT \(tenant), e.key, \(source.id), \(FeedItems.provider(of: source)), 'normalise', e.entry::jsonb
                FROM unnest(\(unique.map(FeedItems.key))::text[], \(payloads)::text[]) AS e(key, entry)
                WHERE NOT EXISTS (SELECT 1 FROM experience.items i WHERE i.tenant_id = \(tenant) AND i.key = e.key)
                ON CONFLICT (tenant_id, key) DO NOTHING
                RETURNING key
                """, logger: database.logger
            ).collect().count
            if queued > 0 { try await Self.enqueue(.normalise, tenant: tenant, on: connection) }
            return queued
        }
    }

    /// Runs `work` over the oldest `limit` articles at `stage` (locked: a second job of the
    /// same stage takes others) and writes what it made of them, in one transaction. Answers
    /// how many it took; when that is the whole `limit`, another job of the stage is queued.
    @discardableResult
    func advance(_ stage: IntakeStage, tenant: UUID, limit: Int, _ work: (Batch) async throws -> Outcome) async throws -> Int {
        try await database.withTenant(tenant) { connection in
            var rows: [Row] = []
            var unreadable: [String] = []
            for try await (key, source, provider, entry, article) in try await connection.query(
                """
                SELECT key, source_id, provider, entry::text, article::text FROM experience.intake
                WHERE tenant_id = \(tenant) AND stage = \(stage.rawValue)
                ORDER BY created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: database.logger
            ).decode((String, UUID, String, String, String?).self) {
                // A row that no longer reads as what its stage needs (written by another version)
                // cannot go further.
                let article = article.flatMap { try? PlatformJSON.decoder.decode(IntakeArticle.self, from: Data($0.utf8)) }
                guard let entry = try? PlatformJSON.decoder.decode(FeedEntry.self, from: Data(entry.utf8)), stage == .normalise || article != nil
                else {
                    unreadable.append(key)
                    continue
                }
                rows.append(Row(key: key, sourceId: source, provider: provider, entry: entry, article: article))
            }
            var outcome =
                rows.isEmpty ? Outcome() : try await work(Batch(rows: rows, connection: connection, tenant: tenant, logger: database.logger))
            outcome.dropped += unreadable
            try await apply(outcome, at: stage, tenant: tenant, on: connection)
            let taken = rows.count + unreadable.count
            if taken == limit { try await Self.enqueue(stage, tenant: tenant, on: connection) }
            return taken
        }
    }

    private func apply(_ outcome: Outcome, at stage: IntakeStage, tenant: UUID, on connection: PostgresConnection) async throws {
        let logger = database.logger
        let new = try await ItemStore.addNew(outcome.items, tenant: tenant, on: connection, logger: logger)
        if !new.isEmpty {
            // Each source is credited with the articles that became items through it.
            var perSource: [UUID: Int] = [:]
            for article in outcome.advanced where new.contains(article.key) { perSource[article.sourceId, default: 0] += 1 }
            try await connection.query(
                """
                UPDATE experience.sources s SET items_new = s.items_new + n.count
                FROM unnest(\(perSource.keys.map { $0 })::uuid[], \(perSource.values.map { $0 })::int8[]) AS n(id, count)
                WHERE s.tenant_id = \(tenant) AND s.id = n.id
                """, logger: logger)
        }
        if !outcome.results.isEmpty {
            let results = outcome.results
            try await connection.query(
                """
                INSERT INTO experience.article_results (tenant_id, content_hash, quality, reasons, summary, item_key)
                SELECT \(tenant), r.hash, r.quality, ARRAY(SELECT jsonb_array_elements_text(r.reasons::jsonb)), r.summary, nullif(r.item, '')
                FROM unnest(\(results.map(\.contentHash))::text[], \(results.map(\.quality))::float8[],
                  \(try results.map { String(decoding: try JSONEncoder().encode($0.reasons), as: UTF8.self) })::text[],
                  \(results.map(\.summary))::text[], \(results.map { $0.itemKey ?? "" })::text[]) AS r(hash, quality, reasons, summary, item)
                ON CONFLICT (tenant_id, content_hash) DO UPDATE SET seen_at = now(),
                  item_key = coalesce(article_results.item_key, excluded.item_key)
                """, logger: logger)
        }
        _ = try await StoryClusterStore.assign(outcome.clusters, tenant: tenant, now: Date(), on: connection, logger: logger)
        var leaving = outcome.dropped
        if let next = stage.next, !outcome.advanced.isEmpty {
            let articles = try outcome.advanced.map { String(decoding: try PlatformJSON.encoder.encode($0), as: UTF8.self) }
            try await connection.query(
                """
                UPDATE experience.intake i SET stage = \(next.rawValue), article = a.article::jsonb
                FROM unnest(\(outcome.advanced.map(\.key))::text[], \(articles)::text[]) AS a(key, article)
                WHERE i.tenant_id = \(tenant) AND i.key = a.key
                """, logger: logger)
            try await Self.enqueue(next, tenant: tenant, on: connection)
        } else {
            leaving += outcome.advanced.map(\.key)
        }
        if !leaving.isEmpty {
            try await connection.query(
                "DELETE FROM experience.intake WHERE tenant_id = \(tenant) AND key = ANY(\(leaving))", logger: logger)
        }
    }

    /// Drops the oldest article at `stage` (one that cannot pass); answers its key.
    func dropOldest(at stage: IntakeStage, tenant: UUID) async throws -> String? {
        try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                DELETE FROM experience.intake WHERE tenant_id = \(tenant) AND key = (
                  SELECT key FROM experience.intake WHERE tenant_id = \(tenant) AND stage = \(stage.rawValue)
                  ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING key
                """, logger: database.logger
            ).collect().first.map { try $0.decode(String.self) }
        }
    }

    static func enqueue(_ stage: IntakeStage, tenant: UUID, on connection: PostgresConnection) async throws {
        try await JobQueue(schema: "experience").enqueue(ExperienceJobs.intake(stage), IntakeArguments(), tenant: tenant, on: connection)
    }

    /// How many of the tenant's articles wait at each stage.
    func waiting(tenant: UUID) async throws -> [IntakeStage: Int] {
        try await database.withTenant(tenant) { connection in
            var counts: [IntakeStage: Int] = [:]
            for try await (stage, count) in try await connection.query(
                "SELECT stage, count(*) FROM experience.intake WHERE tenant_id = \(tenant) GROUP BY stage", logger: database.logger
            ).decode((String, Int).self) {
                if let stage = IntakeStage(rawValue: stage) { counts[stage] = count }
            }
            return counts
        }
    }

    /// Queues again the stage job of every tenant and stage whose articles, queued over ten
    /// minutes ago, have no job of that stage pending (its last one was discarded); answers
    /// the (tenant, stage) pairs resumed. Every tenant's: the minutely upkeep.
    func resumeStalled() async throws -> [(tenant: UUID, stage: IntakeStage)] {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'intake', true)", logger: database.logger)
            var stalled: [(tenant: UUID, stage: IntakeStage)] = []
            for try await (tenant, stage) in try await connection.query(
                """
                SELECT DISTINCT i.tenant_id, i.stage FROM experience.intake i
                WHERE i.created_at < now() - interval '10 minutes'
                  AND NOT EXISTS (
                    SELECT 1 FROM experience.jobs j
                    WHERE j.tenant_id = i.tenant_id AND j.kind = 'experience.intake-' || replace(i.stage, '_', '-')
                      AND j.state IN ('waiting', 'scheduled', 'available', 'running'))
                """, logger: database.logger
            ).decode((UUID, String).self) {
                if let stage = IntakeStage(rawValue: stage) { stalled.append((tenant, stage)) }
            }
            for (tenant, stage) in stalled { try await Self.enqueue(stage, tenant: tenant, on: connection) }
            return stalled
        }
    }

    /// Forgets results not seen for 30 days (every tenant's; the hourly upkeep).
    func forgetOldResults() async throws {
        try await database.withTransaction { connection in
            try await connection.query("SELECT set_config('app.upkeep', 'article_results', true)", logger: database.logger)
            try await connection.query(
                "DELETE FROM experience.article_results WHERE seen_at < now() - interval '30 days'", logger: database.logger)
        }
    }
}

struct IntakeArguments: Codable, Sendable {}
