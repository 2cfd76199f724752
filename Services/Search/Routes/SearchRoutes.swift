import Foundation
import Hummingbird
import ServiceKit

/// `GET /v1/search`.
struct SearchRoutes: Sendable {
    let documents: DocumentStore
    static let types: Set<String> = ["task", "project"]

    struct SearchResponse: ResponseEncodable {
        var hits: [SearchHit]
        var facets: [String: [String: Int]]
        var nextCursor: String?
        var tookMs: Int
        var queryId: UUID
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        router.group("v1/search").add(middleware: AuthenticationMiddleware(verifier: verifier))
            .get { request, context in try await search(request, context) }
    }

    func search(_ request: Request, _ context: ServiceRequestContext) async throws -> SearchResponse {
        let started = ContinuousClock.now
        let identity = try context.requireIdentity()
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let text = v.text(query["q"], "q", max: 500)
        var types: [String]?
        if let raw = query["types"], !raw.isEmpty {
            let list = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            for type in list where !Self.types.contains(type) {
                v.add("types", "'\(type)' is not one of \(Self.types.sorted().joined(separator: ", "))")
            }
            types = list
        }
        try v.finish()
        let offset = try page.decodedCursor(Int.self) ?? 0
        guard offset >= 0, offset <= 10_000 else { throw Problem.badRequest("The cursor is not valid.") }
        let (hits, facets) = try await documents.search(text ?? "", types: types, tenant: identity.tenantID, offset: offset, limit: page.limit + 1)
        let visible = Array(hits.prefix(page.limit))
        let elapsed = ContinuousClock.now - started
        return SearchResponse(
            hits: visible, facets: ["type": facets],
            nextCursor: hits.count > page.limit ? Cursor.encode(offset + page.limit) : nil,
            tookMs: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            queryId: .v7())
    }
}
