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

    /// The words of `text` for prefix matching: letters and digits only, so the tsquery
    /// built from them cannot be malformed; the last one matches as a prefix.
    var prefixQuery: String? {
        guard let text else { return nil }
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init).prefix(16)
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

        /// Rows of the tenant's live generation that the user may see.
        mutating func visible(tenant: UUID, user: UUID?) throws -> [String] {
            let user = try user.map { "d.visible_to IS NULL OR \(try bind($0)) = ANY(d.visible_to)" } ?? "d.visible_to IS NULL"
            return ["NOT d.deleted", "d.generation = search.live_generation(\(try bind(tenant)))", "(\(user))"]
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

    /// Full text (stemmed and unstemmed, the last word as a prefix), ranked by `ts_rank_cd`
    /// (titles weigh most) with a mild boost for recently changed documents; filters; the
    /// asked-for facet counts over all matches. When the text finds nothing, titles within
    /// a typo or two (trigram word similarity) are offered instead.
    func search(
        _ query: SearchQuery, tenant: UUID, user: UUID?, offset: Int, limit: Int
    ) async throws -> (hits: [SearchHit], facets: [String: [String: Int]]) {
        var statement = Statement()
        var conditions = try statement.visible(tenant: tenant, user: user)
        var rank = "0::float8"
        var headlineQuery = "NULL::tsquery"
        if let text = query.text {
            let stemmed = "websearch_to_tsquery('english', \(try statement.bind(text)))"
            var match = "d.search @@ \(stemmed)"
            rank = "ts_rank_cd(d.search, \(stemmed))"
            headlineQuery = stemmed
            if let prefix = query.prefixQuery {
                let prefixed = "to_tsquery('simple', \(try statement.bind(prefix)))"
                match = "(\(match) OR d.search @@ \(prefixed))"
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
        let hitsSQL = """
            SELECT d.doc_type, d.doc_id, d.title, \(snippet), (\(score))::float8 AS score
            FROM search.documents d WHERE \(filters)
            ORDER BY score DESC, d.doc_id OFFSET \(offset) LIMIT \(limit)
            """
        let typoNeeded = query.text != nil && offset == 0
        return try await database.withTenant(tenant) { connection in
            var hits = try await Self.hits(try await connection.query(PostgresQuery(unsafeSQL: hitsSQL, binds: statement.binds), logger: database.logger))
            if typoNeeded, hits.isEmpty, let text = query.text {
                hits = try await typoHits(text, query: query, tenant: tenant, user: user, limit: min(limit, 10), on: connection)
            }
            var facets: [String: [String: Int]] = [:]
            for facet in query.facets {
                let grouped: String
                switch facet {
                case "type": grouped = "SELECT d.doc_type, count(*)::int FROM search.documents d WHERE \(filters) GROUP BY 1"
                case "tags": grouped = "SELECT t, count(*)::int FROM search.documents d, unnest(d.tags) t WHERE \(filters) GROUP BY 1 ORDER BY 2 DESC LIMIT 50"
                default:
                    grouped = """
                        SELECT d.facets ->> '\(facet)', count(*)::int FROM search.documents d WHERE \(filters) AND d.facets ? '\(facet)' GROUP BY 1
                        """
                }
                var counts: [String: Int] = [:]
                for try await (value, count) in try await connection.query(
                    PostgresQuery(unsafeSQL: grouped, binds: statement.binds), logger: database.logger
                ).decode((String, Int).self) {
                    counts[value] = count
                }
                facets[facet] = counts
            }
            return (hits, facets)
        }
    }

    /// Titles within a typo or two of the text (`qoukka` finds `quokka`), best first.
    private func typoHits(
        _ text: String, query: SearchQuery, tenant: UUID, user: UUID?, limit: Int, on connection: PostgresConnection
    ) async throws -> [SearchHit] {
        guard limit > 0 else { return [] }
        try await connection.query("SELECT set_config('pg_trgm.word_similarity_threshold', '0.2', true)", logger: database.logger)
        var statement = Statement()
        let needle = try statement.bind(text)
        let conditions = try statement.visible(tenant: tenant, user: user) + ["\(needle) OPERATOR(search.<%) d.title"]
            + (try statement.filters(query))
        let sql = """
            SELECT d.doc_type, d.doc_id, d.title, replace(replace(replace(d.title, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                   search.word_similarity(\(needle), d.title)::float8 * 0.1 AS score
            FROM search.documents d WHERE \(conditions.joined(separator: " AND "))
            ORDER BY score DESC, d.doc_id LIMIT \(limit)
            """
        return try await Self.hits(try await connection.query(PostgresQuery(unsafeSQL: sql, binds: statement.binds), logger: database.logger))
    }

    static func hits(_ rows: PostgresRowSequence) async throws -> [SearchHit] {
        var hits: [SearchHit] = []
        for try await (type, id, title, snippet, score) in rows.decode((String, UUID, String, String, Double).self) {
            hits.append(SearchHit(type: type, id: id, title: title, snippet: highlight(snippet), score: score))
        }
        return hits
    }

    /// The snippet arrives escaped (`&`, `<`, `>`): the match markers become `<mark>`.
    static func highlight(_ escaped: String) -> String {
        escaped.replacingOccurrences(of: "\u{1}", with: "<mark>").replacingOccurrences(of: "\u{2}", with: "</mark>")
    }
}
