import Foundation
import Persistence
import PostgresNIO
import ServiceKit

struct SearchHit: Codable, Sendable, Equatable {
    var type: String
    var id: UUID
    var title: String
    /// HTML: the text escaped, matched words in `<mark>`.
    var snippet: String
    var score: Double
}

/// What `GET /v1/search` asks. Every value reaches SQL as a bound parameter.
struct SearchQuery: Sendable {
    var text: String?
    var types: [String]?
    var tags: [String]?
    var attributes: [String: String] = [:]
    var facets: [String] = ["type"]

    /// The words of `text`, lower case: letters and digits only, so a tsquery built from them
    /// cannot be malformed.
    private var words: [String] {
        (text ?? "").lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// The words of `text` to correct for typos, at most 8, of 3 letters or more (shorter ones
    /// are mostly stop words, and have no near words to offer); nil when there are none.
    var typoWords: [String]? {
        let words = words.filter { $0.count >= 3 }.prefix(8)
        return words.isEmpty ? nil : Array(words)
    }

    /// The words of `text` for prefix matching; the last one matches as a prefix.
    var prefixQuery: String? {
        let words = words.prefix(16)
        guard let last = words.last else { return nil }
        return (words.dropLast().map { $0 } + [last + ":*"]).joined(separator: " & ")
    }
}

/// SQL for the shared index: one table for every document type, one tenant's rows visible
/// per transaction (row-level security).
struct DocumentStore: Sendable {
    let database: Database

    /// A query built once and shared by the hits and facet statements.
    struct Statement {
        var binds = PostgresBindings()

        mutating func bind<Value: PostgresEncodable>(_ value: Value) throws -> String {
            try binds.append(value)
            return "$\(binds.count)"
        }

        /// Rows of the tenant's live generation that the user may see. The tenant is named
        /// although row-level security already filters by it: the policy's condition is known
        /// only when the query runs, so the planner would plan all 16 partitions (3 ms a
        /// statement warm, 18 ms on a fresh connection) and prune them at run time.
        mutating func visible(tenant: UUID, user: UUID?) throws -> [String] {
            let user = try user.map { "d.visible_to IS NULL OR \(try bind($0)) = ANY(d.visible_to)" } ?? "d.visible_to IS NULL"
            return ["d.tenant_id = \(try bind(tenant))", "NOT d.deleted", "d.generation = \(try liveGeneration(tenant))", "(\(user))"]
        }

        /// The generation the tenant's queries read: the live one, 1 before its first
        /// document. Written out, not a SQL function: the planner evaluates this
        /// uncorrelated subquery once, but called a function once per row (434 ms against 20).
        mutating func liveGeneration(_ tenant: UUID) throws -> String {
            "COALESCE((SELECT g.generation FROM search.generations g WHERE g.tenant_id = \(try bind(tenant)) AND g.state = 'live'), 1)"
        }

        /// The query's filters (types, tags, attributes) as conditions on `d`.
        mutating func filters(_ query: SearchQuery) throws -> [String] {
            var conditions: [String] = []
            if let types = query.types { conditions.append("d.doc_type = ANY(\(try bind(types)))") }
            if let tags = query.tags { conditions.append("d.tags @> \(try bind(tags))") }
            for (name, value) in query.attributes.sorted(by: { $0.key < $1.key }) {
                conditions.append("d.facets ->> \(try bind(name)) = \(try bind(value))")
            }
            return conditions
        }
    }

    /// At most this many matches are ranked and counted per query: ranking costs about 10 µs
    /// a match, so a common word in a large tenant would otherwise take seconds. Up to the
    /// cap, ranking and facet counts are exact; beyond it they cover the first `cap` matches
    /// the index yields and the answer says it is not exhaustive.
    static let candidateCap = 1000

    /// Where the last word of a query is completed as a prefix: titles first, whose index
    /// holds a fifth of the whole text's postings (a common prefix costs a tenth as much
    /// there), then the whole text when titles give less than a page.
    enum PrefixScope { case titles, everything }

    struct Results: Sendable {
        var hits: [SearchHit]
        var facets: [String: [String: Int]]
        /// Matches counted, at most `candidateCap`.
        var matched: Int
        /// False when more than `candidateCap` documents matched.
        var exhaustive: Bool
    }

    /// Full text (stemmed and unstemmed), ranked by `ts_rank_cd` (titles weigh most) with a
    /// mild boost for recently changed documents; filters; the asked-for facet counts over
    /// the matches. When the words find less than a page, the last word also matches as a
    /// prefix (search as you type: expanding a prefix is the costly part, so only when it
    /// matters), in titles, then in the whole text if still less than a page; when that
    /// finds nothing, each word also matches the tenant's title words within a typo or two
    /// of it (trigram similarity) and the query runs again.
    /// `then` runs in the same transaction, on the same connection, once the results are
    /// known (the query log), so a search costs one transaction.
    func search(
        _ query: SearchQuery, tenant: UUID, user: UUID?, offset: Int, limit: Int,
        then: (Results, PostgresConnection) async throws -> Void = { _, _ in }
    ) async throws -> Results {
        try await database.withTenant(tenant) { connection in
            // With a LIMIT the planner may bet on meeting matches early in a table or
            // primary-key scan; under row-level security it cannot tell how many rows are
            // the tenant's and loses by seconds. Bitmap scans of the text index cost what
            // the matches cost.
            try await connection.query(
                "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)", logger: database.logger)
            var results = try await run(query, tenant: tenant, user: user, prefix: nil, offset: offset, limit: limit, on: connection)
            // `matched` counts every match, not the page: each page of a query makes the same choice.
            if query.prefixQuery != nil {
                for scope in [PrefixScope.titles, .everything] {
                    guard results.matched < limit else { break }
                    results = try await run(query, tenant: tenant, user: user, prefix: scope, offset: offset, limit: limit, on: connection)
                }
            }
            // Every page of a misspelt query is read the same way: the correction depends on the text only.
            if results.matched == 0, let words = query.typoWords,
                let corrected = try await correction(words, tenant: tenant, on: connection)
            {
                results = try await run(
                    query, tenant: tenant, user: user, prefix: nil, corrected: corrected, offset: offset, limit: limit, on: connection)
            }
            try await then(results, connection)
            return results
        }
    }

    /// One statement: the matches are read once (at most `candidateCap`), then ranked and counted.
    /// `corrected`: a `simple` tsquery that replaces the text (the typo pass).
    private func run(
        _ query: SearchQuery, tenant: UUID, user: UUID?, prefix scope: PrefixScope?, corrected: String? = nil, offset: Int, limit: Int,
        on connection: PostgresConnection
    ) async throws -> Results {
        var statement = Statement()
        var conditions = try statement.visible(tenant: tenant, user: user)
        var rank = "0::float8"
        var headlineQuery = "NULL::tsquery"
        if let corrected {
            let alternatives = "to_tsquery('simple', \(try statement.bind(corrected)))"
            rank = "ts_rank_cd(d.search, \(alternatives))"
            headlineQuery = alternatives
            conditions.append("d.search @@ \(alternatives)")
        } else if let text = query.text {
            let stemmed = "websearch_to_tsquery('english', \(try statement.bind(text)))"
            var match = "d.search @@ \(stemmed)"
            rank = "ts_rank_cd(d.search, \(stemmed))"
            headlineQuery = stemmed
            if let scope, let prefix = query.prefixQuery {
                let prefixed = "to_tsquery('simple', \(try statement.bind(prefix)))"
                let text =
                    switch scope {
                    case .titles: "d.title_vector"
                    case .everything: "d.search"
                    }
                match = "(\(match) OR \(text) @@ \(prefixed))"
                rank = "(\(rank) + ts_rank_cd(d.search, \(prefixed)))"
                headlineQuery = "(\(stemmed) || \(prefixed))"
            }
            conditions.append(match)
        }
        conditions += try statement.filters(query)
        let filters = conditions.joined(separator: " AND ")
        // Up to 20 % more for a document changed today, fading over about a month.
        let score = "(\(rank) + 0.0001) * (1 + 0.2 * exp(-extract(epoch FROM now() - d.source_updated_at) / 2592000))"
        // The text is HTML-escaped before ts_headline (whose parser would drop tags such as
        // <script>); short texts are shown whole, long ones as their best fragment.
        let source = "CASE WHEN d.body = '' THEN d.title ELSE d.body END"
        let escaped = "replace(replace(replace(\(source), '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
        let tsquery = "COALESCE(\(headlineQuery), ''::tsquery)"
        let snippet = """
            CASE WHEN length(\(source)) <= 300
              THEN ts_headline('english', \(escaped), \(tsquery), 'HighlightAll=true, StartSel=\u{1}, StopSel=\u{2}')
              ELSE ts_headline('english', \(escaped), \(tsquery), 'MaxWords=24, MinWords=8, MaxFragments=1, StartSel=\u{1}, StopSel=\u{2}')
            END
            """
        // Rows: 'hit' (type, id, title, snippet, score), 'facet' (facet, value, count) and one
        // 'matched' (count).
        var parts = [
            """
            SELECT 'hit', h.doc_type, h.doc_id, h.title, h.snippet, h.score, NULL::int FROM (
              SELECT d.doc_type, d.doc_id, d.title, \(snippet) AS snippet, (\(score))::float8 AS score
              FROM matches d ORDER BY score DESC, d.doc_id OFFSET \(offset) LIMIT \(limit)) h
            """,
            "SELECT 'matched', NULL, NULL, NULL, NULL, NULL, count(*)::int FROM matches",
        ]
        for facet in query.facets {
            switch facet {
            case "type": parts.append("SELECT 'facet', 'type', NULL, d.doc_type, NULL, NULL, count(*)::int FROM matches d GROUP BY d.doc_type")
            case "tags":
                parts.append(
                    "(SELECT 'facet', 'tags', NULL, t, NULL, NULL, count(*)::int FROM matches d, unnest(d.tags) t GROUP BY t ORDER BY 7 DESC LIMIT 50)"
                )
            default:
                let name = try statement.bind(facet)
                parts.append(
                    """
                    SELECT 'facet', \(name), NULL, d.facets ->> \(name), NULL, NULL, count(*)::int FROM matches d
                    WHERE d.facets ? \(name) GROUP BY d.facets ->> \(name)
                    """)
            }
        }
        let sql = """
            WITH matches AS MATERIALIZED (
              SELECT d.doc_type, d.doc_id, d.title, d.body, d.search, d.tags, d.facets, d.source_updated_at
              FROM search.documents d WHERE \(filters) LIMIT \(Self.candidateCap + 1))
            \(parts.joined(separator: "\nUNION ALL\n"))
            """
        var results = Results(hits: [], facets: [:], matched: 0, exhaustive: true)
        for facet in query.facets { results.facets[facet] = [:] }
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: statement.binds), logger: database.logger) {
            let columns = row.makeRandomAccess()
            switch try columns[0].decode(String.self) {
            case "hit":
                results.hits.append(
                    SearchHit(
                        type: try columns[1].decode(String.self), id: try columns[2].decode(UUID.self), title: try columns[3].decode(String.self),
                        snippet: Self.highlight(try columns[4].decode(String.self)), score: try columns[5].decode(Double.self)))
            case "matched":
                let count = try columns[6].decode(Int.self)
                results.matched = min(count, Self.candidateCap)
                results.exhaustive = count <= Self.candidateCap
            default:
                let facet = try columns[1].decode(String.self)
                results.facets[facet, default: [:]][try columns[3].decode(String.self)] = try columns[6].decode(Int.self)
            }
        }
        // UNION ALL keeps each part's order but not the parts' order among each other.
        results.hits.sort { ($0.score, $1.id.uuidString) > ($1.score, $0.id.uuidString) }
        return results
    }

    /// The words as a `simple` tsquery in which each word may also be one of the tenant's
    /// three nearest title words (`qoukka` → `(qoukka | quokka) & ...`); nil when no word has
    /// a near one. Words come from titles the user may not see, but they only widen the match:
    /// the documents found are filtered as always, and the correction is not shown.
    private func correction(_ words: [String], tenant: UUID, on connection: PostgresConnection) async throws -> String? {
        try await connection.query("SELECT set_config('pg_trgm.similarity_threshold', '0.2', true)", logger: database.logger)
        let rows = try await connection.query(
            """
            SELECT q.word, COALESCE((
              SELECT array_agg(c.word) FROM (
                SELECT w.word FROM search.title_words w
                WHERE w.tenant_id = \(tenant) AND w.word OPERATOR(search.%) q.word AND w.word <> q.word
                ORDER BY search.similarity(w.word, q.word) DESC, w.word LIMIT 3) c), '{}')
            FROM unnest(\(words)::text[]) WITH ORDINALITY AS q(word, n) ORDER BY q.n
            """, logger: database.logger)
        var terms: [String] = []
        var widened = false
        for try await (word, near) in rows.decode((String, [String]).self) {
            widened = widened || !near.isEmpty
            // Quoted: a word the text parser splits (a letter it does not count as one) is a phrase, not a syntax error.
            terms.append("(" + ([word] + near).map { "'\($0)'" }.joined(separator: " | ") + ")")
        }
        return widened ? terms.joined(separator: " & ") : nil
    }

    /// The snippet arrives escaped (`&`, `<`, `>`): the match markers become `<mark>`. In
    /// bytes: Foundation's `replacingOccurrences` goes through NSString, and took about 7 %
    /// of the service's time under query load.
    static func highlight(_ escaped: String) -> String {
        var html: [UInt8] = []
        html.reserveCapacity(escaped.utf8.count + 64)
        for byte in escaped.utf8 {
            switch byte {
            case 1: html.append(contentsOf: "<mark>".utf8)
            case 2: html.append(contentsOf: "</mark>".utf8)
            default: html.append(byte)
            }
        }
        return String(decoding: html, as: UTF8.self)
    }
}
