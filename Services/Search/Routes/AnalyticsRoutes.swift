import Foundation
import Hummingbird
import ServiceKit

/// `POST /v1/search/clicks` and `GET /v1/admin/search/analytics?from&to` (owners, admins).
struct AnalyticsRoutes: RouteGroup {
    let store: AnalyticsStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        router.group("v1/search/clicks").add(middleware: AuthenticationMiddleware(verifier: verifier))
            .post { request, context in try await click(request, context) }
        router.group("v1/admin/search/analytics").add(middleware: AuthenticationMiddleware(verifier: verifier))
            .get { request, context in try await report(request, context) }
    }

    struct Click: Decodable {
        var queryId: UUID
        var type: String
        var id: UUID
    }

    func click(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        let input = try await request.decodeJSON(Click.self, context: context)
        var v = Validator()
        v.check(SearchRoutes.types.contains(input.type), "type", "must be one of \(SearchRoutes.types.sorted().joined(separator: ", "))")
        try v.finish()
        guard try await store.logClick(query: input.queryId, type: input.type, document: input.id, tenant: identity.tenantID) else {
            throw Problem.validation([.init(field: "queryId", message: "names no query of this tenant")])
        }
        return .noContent
    }

    func report(_ request: Request, _ context: ServiceRequestContext) async throws -> AnalyticsStore.Report {
        let identity = try context.requireIdentity()
        try identity.requireTenantAdmin()
        let parameters = request.queryItems
        var v = Validator()
        func date(_ name: String) -> Date? {
            guard let raw = parameters[name] else { return nil }
            let parsed = ISO8601DateFormatter().date(from: raw)
            v.check(parsed != nil, name, "must be an RFC 3339 date-time")
            return parsed
        }
        let to = date("to") ?? Date()
        let from = date("from") ?? to.addingTimeInterval(-30 * 86400)
        v.check(from < to, "from", "must be before to")
        v.check(to.timeIntervalSince(from) <= 366 * 86400, "from", "the window is at most a year")
        try v.finish()
        return try await store.report(tenant: identity.tenantID, from: from, to: to)
    }
}

extension AnalyticsStore.Report: ResponseEncodable {}
