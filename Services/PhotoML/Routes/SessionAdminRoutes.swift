import Foundation
import Hummingbird
import ServiceKit

/// `/v1/admin/photoml/sessions`: the tenant's sessions by state, and a failed one retried.
struct SessionAdminRoutes: RouteGroup {
    let store: SessionStore

    struct SessionsByState: ResponseEncodable {
        /// Every state with its number of sessions.
        var counts: [String: Int]
        var items: [PhotoSession]
        var nextCursor: String?
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let admin = router.group("v1/admin/photoml/sessions").add(middleware: AuthenticationMiddleware(verifier: verifier))
        admin.get { request, context in try await list(request, context) }
        admin.post(":id/retry") { _, context in try await retry(context) }
    }

    func list(_ request: Request, _ context: ServiceRequestContext) async throws -> SessionsByState {
        let identity = try context.requireIdentity()
        try identity.require(anyOf: ModelAdminRoutes.admins)
        let query = request.queryItems
        let page = try PageRequest(query)
        var v = Validator()
        let state = query["state"].map { PhotoSession.State(rawValue: $0) }
        v.check(state != .some(nil), "state", "must be pending, processing, completed, completed_with_warnings or failed")
        try v.finish()
        let counts = try await store.countsByState(tenant: identity.tenantID)
        let fetched = try await store.list(
            tenant: identity.tenantID, state: state ?? nil, location: nil, before: try page.decodedCursor(UUID.self), limit: page.limit + 1)
        let listed = Page(fetched: fetched, limit: page.limit) { $0.id }
        return SessionsByState(counts: counts, items: listed.items, nextCursor: listed.nextCursor)
    }

    /// 202: the failed session is pending again, its failed photos queued.
    func retry(_ context: ServiceRequestContext) async throws -> EditedResponse<PhotoSession> {
        let identity = try context.requireIdentity()
        try identity.require(anyOf: ModelAdminRoutes.admins)
        let id = try context.pathID("photo session")
        let session = try await Inventory.mapErrors("photo session") { try await store.retry(id, tenant: identity.tenantID) }
        return EditedResponse(status: .accepted, headers: [.eTag: session.etag], response: session)
    }
}
