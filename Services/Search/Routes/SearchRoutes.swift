import Foundation
import Hummingbird
import ServiceKit

/// `GET /v1/search`.
struct SearchRoutes: RouteGroup {
    let documents: DocumentStore
    let analytics: AnalyticsStore
    static let types: Set<String> = ["task", "project", "photo_session"]

    struct SearchResponse: ResponseEncodable {
        var hits: [SearchHit]
        var facets: [String: [String: Int]]
        var nextCursor: String?
        var tookMs: Int
        var queryId: UUID
        /// False when more matched than are ranked (DocumentStore.candidateCap): hits and
        /// facet counts then cover the first matches only.
        var exhaustive: Bool
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        router.group("v1/search").add(middleware: AuthenticationMiddleware(verifier: verifier, clients: ClientAccess.search))
            .get { request, context in try await search(request, context) }
    }

    static let facetNames: Set<String> = ["type", "tags", "status"]
    /// Per-type attributes a query may filter by (task and photo session facets).
    static let attributes: Set<String> = ["status", "projectId", "priority", "locationId", "productId"]

    func search(_ request: Request, _ context: ServiceRequestContext) async throws -> SearchResponse {
        let started = ContinuousClock.now
        let identity = try context.requireIdentity()
        let parameters = request.queryItems
        let page = try PageRequest(parameters)
        var v = Validator()
        var query = SearchQuery()
        if let raw = parameters["q"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            query.text = v.text(raw, "q", max: 500)
        }
        query.types = Self.list(parameters["types"]).map { list in
            for type in list where !Self.types.contains(type) {
                v.add("types", "'\(type)' is not one of \(Self.types.sorted().joined(separator: ", "))")
            }
            return list
        }
        query.tags = Self.list(parameters["tags"]).map { list in
            v.check(list.count <= 20 && list.allSatisfy { $0.count <= 50 }, "tags", "at most 20 tags of 50 characters")
            return list
        }
        for name in Self.attributes {
            guard let value = parameters[name] else { continue }
            v.check(!value.isEmpty && value.count <= 100, name, "must be 1 to 100 characters")
            query.attributes[name] = name.hasSuffix("Id") ? value.lowercased() : value
        }
        if let facets = Self.list(parameters["facets"]) {
            for facet in facets where !Self.facetNames.contains(facet) {
                v.add("facets", "'\(facet)' is not one of \(Self.facetNames.sorted().joined(separator: ", "))")
            }
            query.facets = facets
        }
        if query.text == nil && query.types == nil && query.tags == nil && query.attributes.isEmpty {
            v.add("q", "give a query, or at least one filter")
        }
        try v.finish()
        let offset = try page.decodedCursor(Int.self) ?? 0
        guard offset >= 0, offset <= 10_000 else { throw Problem.badRequest("The cursor is not valid.") }
        let queryID = UUID.v7()
        var tookMs = 0
        let results = try await documents.search(query, tenant: identity.tenantID, user: identity.userID, offset: offset, limit: page.limit + 1) {
            results, connection in
            let elapsed = ContinuousClock.now - started
            tookMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            // Later pages are the same query: only its first page is logged (and ranked).
            guard offset == 0 else { return }
            try await analytics.logQuery(
                id: queryID, tenant: identity.tenantID, text: query.text, results: max(results.matched, results.hits.count), tookMs: tookMs,
                shown: results.hits.prefix(page.limit).map(\.id), on: connection)
        }
        let hits = results.hits
        let visible = Array(hits.prefix(page.limit))
        return SearchResponse(
            hits: visible, facets: results.facets, nextCursor: hits.count > page.limit ? Cursor.encode(offset + page.limit) : nil, tookMs: tookMs,
            queryId: queryID, exhaustive: results.exhaustive)
    }

    /// `a,b` → `["a", "b"]` (trimmed, lower-cased); nil when absent or empty.
    static func list(_ raw: String?) -> [String]? {
        guard let raw, !raw.isEmpty else { return nil }
        return raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }
}
