import Foundation
import Persistence
import TestSupport
import Testing

@testable import Experience

/// `make bench-digests` (release service binary, EXPERIENCE_BINARY): BENCH_INTAKE_ARTICLES
/// generated articles (50,000) queued as fetches would and carried through the intake's
/// stages by the service's jobs (articles/s, per CPU second, near-duplicate precision and
/// recall against the planted stories); then BENCH_DIGEST_USERS
/// readers (100,000) of one tenant all due in one window, 500 new articles (a fifth of them in
/// shared stories), a fifth of the readers with 20 interactions each. The service's own
/// per-minute dispatch claims them and its workers assemble them; prints how long from the
/// first claim until every digest was handed to notifications (its request in the outbox).
/// The requests go on to the test broker's `notifications.request.v1` (no notifications
/// service reads them here); `make bench-digests` stops the test stack afterwards, and the
/// broker keeps its topics in memory, so they are gone. Asserts none of the figures.
@Suite("digest fan-out benchmark", .enabled(if: ProcessInfo.processInfo.environment["BENCH_DIGESTS"] != nil), .serialized)
struct DigestBenchmark {
    static let env = ProcessInfo.processInfo.environment

    static func seed(users: Int, tenant: UUID, database: Database) async throws {
        try await InteractionPartitions(database: database).ensure(days: [Date(), Date().addingTimeInterval(-86400)])
        _ = try await database.withTenant(tenant) { connection in
            try await connection.query(
                """
                INSERT INTO experience.items (tenant_id, key, type, title, categories, topics, provider, published_at, attributes)
                SELECT \(tenant), 'a' || n, 'article', 'Article ' || n, ARRAY['category-' || n % 20], ARRAY['topic-' || n % 10],
                  'source-' || n % 30, now() - (n * 137 % 72000) * interval '1 second',
                  jsonb_build_object('url', 'https://bench.example/a/' || n, 'summary', 'What article ' || n || ' says, in a sentence or two.')
                FROM generate_series(0, 499) n
                """, logger: database.logger)
            try await connection.query(
                """
                INSERT INTO experience.item_signatures (tenant_id, item_key, signature, cluster_key)
                SELECT \(tenant), 'a' || n, '{}', 'a' || CASE WHEN n < 200 THEN n - n % 2 ELSE n END FROM generate_series(0, 499) n
                """, logger: database.logger)
            // Disabled until the clock starts.
            try await connection.query(
                """
                INSERT INTO experience.digest_preferences (tenant_id, user_key, enabled, local_time, time_zone, max_items, muted_topics, next_send_at)
                SELECT \(tenant), gen_random_uuid()::text, false, '07:30',
                  (ARRAY['Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata', 'America/New_York', 'Australia/Adelaide'])[1 + n % 5], 10,
                  CASE WHEN n % 7 = 0 THEN ARRAY['topic-3'] ELSE '{}' END, now()
                FROM generate_series(1, \(users)) n
                """, logger: database.logger)
            try await connection.query(
                """
                INSERT INTO experience.interactions (tenant_id, event_id, user_key, item_key, kind, occurred_at)
                SELECT \(tenant), p.user_key || '-' || k, p.user_key, 'a' || (abs(hashtext(p.user_key || k)) % 500),
                  (ARRAY['view', 'click', 'like', 'save'])[1 + k % 4], now() - (k * 600 + 60) * interval '1 second'
                FROM (SELECT user_key FROM experience.digest_preferences WHERE tenant_id = \(tenant) ORDER BY user_key
                      LIMIT \(users / 5)) p
                CROSS JOIN generate_series(1, 20) k
                """, logger: database.logger)
        }
    }

    @Test("intake: generated articles, a fifth of them rewrites, through the five stages as the service's jobs")
    func intake() async throws {
        let count = Int(Self.env["BENCH_INTAKE_ARTICLES"] ?? "") ?? 50_000
        let service = try await ExperienceBenchmark.releaseService(port: 28785, issuer: try await TestIssuer.start())
        defer { service.terminate() }
        let (entries, story) = PipelineBenchCommand.corpus(articles: count, duplicates: 0.2)
        let tenant = UUID.v7()
        let source = Source(
            id: UUID(), userId: nil, url: "https://bench.example/feed", siteUrl: nil, title: "Bench", format: "rss", state: .active, failures: 0,
            failingSince: nil, lastError: nil, nextFetchAt: Date(), lastFetchedAt: nil, fetched: 0, notModified: 0, failed: 0, itemsNew: 0,
            createdAt: Date())
        try await withDatabase("experience") { database in
            let store = IntakeStore(database: database)
            let clock = ContinuousClock()
            let started = clock.now
            let cpuBefore = ExperienceBenchmark.cpuSeconds([service.processIdentifier] + ExperienceBenchmark.postgresPIDs())
            // As fetches would: a feed's 500 entries at a time.
            for start in stride(from: 0, to: entries.count, by: 500) {
                try await store.queue(Array(entries[start..<min(start + 500, entries.count)]), from: source, tenant: tenant)
            }
            let queued = clock.now - started
            _ = try await eventually(timeout: .seconds(1800)) { try await store.waiting(tenant: tenant).isEmpty }
            let seconds = (clock.now - started).seconds
            let cpu = ExperienceBenchmark.cpuSince(
                cpuBefore, ExperienceBenchmark.cpuSeconds([service.processIdentifier] + ExperienceBenchmark.postgresPIDs()))
            let clusters = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "SELECT item_key, cluster_key FROM experience.item_signatures WHERE tenant_id = \(tenant)", logger: database.logger
                ).collect().reduce(into: [String: String]()) { found, row in
                    let (key, cluster) = try row.decode((String, String).self)
                    found[key] = cluster
                }
            }
            // Pairwise against the planted stories, over the articles that passed quality.
            let keys = entries.map(FeedItems.key)
            let kept = keys.indices.filter { clusters[keys[$0]] != nil }
            var numbers: [String: Int] = [:]
            let ours = kept.map { index -> Int in
                let cluster = clusters[keys[index]] ?? ""
                if let number = numbers[cluster] { return number }
                numbers[cluster] = numbers.count
                return numbers.count - 1
            }
            let (precision, recall) = PipelineBenchCommand.pairwise(clusters: ours, story: kept.map { story[$0] })
            print(
                String(
                    format:
                        "BENCH intake: %d articles queued in %.1f s, through all five stages as jobs in %.1f s: %.0f articles/s, %.0f per CPU second of service + PostgreSQL (%.1f CPU s); %d items; near-duplicates pairwise precision %.3f, recall %.3f",
                    count, queued.seconds, seconds, Double(count) / seconds, Double(count) / max(cpu, 0.001), cpu, kept.count, precision, recall))
            _ = try await database.withTenant(tenant) { connection in
                for table in ["intake", "article_results", "item_signatures", "signature_bands", "items"] {
                    try await connection.query("DELETE FROM experience.\(unescaped: table) WHERE tenant_id = \(tenant)", logger: database.logger)
                }
            }
        }
    }

    @Test("digest fan-out: every reader of a window claimed, assembled and handed to notifications")
    func fanOut() async throws {
        let users = Int(Self.env["BENCH_DIGEST_USERS"] ?? "") ?? 100_000
        let service = try await ExperienceBenchmark.releaseService(port: 28784, issuer: try await TestIssuer.start())
        defer { service.terminate() }
        let tenant = UUID.v7()
        try await withDatabase("experience") { database in
            let clock = ContinuousClock()
            var started = clock.now
            try await Self.seed(users: users, tenant: tenant, database: database)
            print(
                String(
                    format: "BENCH digests: %d readers, 500 articles, %d interactions seeded in %.1f s", users, users / 5 * 20,
                    (clock.now - started).seconds))
            let due = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "UPDATE experience.digest_preferences SET enabled = true, next_send_at = now() WHERE tenant_id = \(tenant) RETURNING now()",
                    logger: database.logger
                ).collect().first.map { try $0.decode(Date.self) } ?? Date()
            }
            started = clock.now
            var last = (finished: 0, at: clock.now)
            while clock.now - started < .seconds(900) {
                try await Task.sleep(for: .seconds(2))
                let finished = try await database.withTenant(tenant) { connection in
                    try await connection.query(
                        "SELECT count(*) FROM experience.digests WHERE tenant_id = \(tenant) AND state <> 'due'", logger: database.logger
                    ).collect().first.map { try $0.decode(Int.self) } ?? 0
                }
                if finished != last.finished { last = (finished, clock.now) }
                if finished >= users || clock.now - last.at > .seconds(120) { break }
            }
            let figures = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    """
                    SELECT count(*), count(*) FILTER (WHERE state = 'sent'), min(created_at), max(created_at), max(finished_at),
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - scheduled_at))
                    FROM experience.digests WHERE tenant_id = \(tenant) AND state <> 'due'
                    """, logger: database.logger
                ).collect().first.map { try $0.decode((Int, Int, Date?, Date?, Date?, Double?).self) }
            }
            let (count, sent, firstClaim, lastClaim, lastFinish, p99) = try #require(figures)
            let requests = try await database.withTenant(tenant) { connection in
                try await connection.query(
                    "SELECT count(*) FROM experience.outbox WHERE tenant_id = \(tenant)", logger: database.logger
                ).collect().first.map { try $0.decode(Int.self) } ?? 0
            }
            if let firstClaim, let lastClaim, let lastFinish {
                let total = lastFinish.timeIntervalSince(firstClaim)
                print(
                    String(
                        format:
                            "BENCH digests: %d of %d handed (%d sent, %d requests in the outbox) in %.1f s from the first claim (%.0f digests/s); claims took %.1f s; the dispatcher's first run came %.1f s after they were due; p99 due-to-handed %.1f s",
                        count, users, sent, requests, total, Double(count) / max(total, 0.001), lastClaim.timeIntervalSince(firstClaim),
                        firstClaim.timeIntervalSince(due), p99 ?? 0))
            } else {
                print("BENCH digests: none handed")
            }
            // The tenant's rows go.
            _ = try await database.withTenant(tenant) { connection in
                for table in ["outbox", "digests", "digest_preferences", "item_signatures", "items", "interactions"] {
                    try await connection.query("DELETE FROM experience.\(unescaped: table) WHERE tenant_id = \(tenant)", logger: database.logger)
                }
            }
        }
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
