import Foundation
import Hummingbird
import ServiceKit

/// `/v1/task-filters`: the caller's saved list queries. The parameters are checked as
/// `GET /v1/tasks` would check them, so a saved filter always runs.
struct FilterRoutes: RouteGroup {
    let store: FilterStore

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let filters = router.group("v1/task-filters").add(middleware: AuthenticationMiddleware(verifier: verifier))
        filters.get { _, context in
            let identity = try context.requireIdentity()
            return FilterList(items: try await store.list(tenant: identity.tenantID, owner: identity.subject))
        }
        filters.post { request, context in try await save(request, context, id: Optional<UUID>.none) }
        filters.get(":id") { _, context in
            let identity = try context.requireIdentity()
            return try await mapErrors { try await store.get(try filterID(context), tenant: identity.tenantID, owner: identity.subject) }
        }
        filters.put(":id") { request, context in try await save(request, context, id: try filterID(context)) }
        filters.delete(":id") { _, context -> HTTPResponse.Status in
            let identity = try context.requireIdentity()
            try await mapErrors { try await store.delete(try filterID(context), tenant: identity.tenantID, owner: identity.subject) }
            return .noContent
        }
    }

    struct FilterList: ResponseEncodable {
        var items: [SavedFilter]
    }

    struct Input: Decodable {
        var name: String
        var parameters: [String: String]
    }

    func save(_ request: Request, _ context: ServiceRequestContext, id: UUID?) async throws -> EditedResponse<SavedFilter> {
        let identity = try context.requireIdentity()
        let input = try await request.decodeJSON(Input.self, context: context)
        var v = Validator()
        let name = v.text(input.name, "name", max: 100) ?? ""
        let unknown = Set(input.parameters.keys).subtracting(TaskQuery.parameters)
        v.check(unknown.isEmpty, "parameters", "unknown parameters: \(unknown.sorted().joined(separator: ", "))")
        try v.finish()
        _ = try TaskQuery(input.parameters)
        let (filter, created) = try await mapErrors {
            try await store.save(id: id, name: name, parameters: input.parameters, tenant: identity.tenantID, owner: identity.subject)
        }
        return EditedResponse(status: created ? .created : .ok, response: filter)
    }

    func filterID(_ context: ServiceRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound("No such filter.") }
        return id
    }

    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch FilterStoreError.notFound {
            throw Problem.notFound("No such filter.")
        } catch FilterStoreError.nameTaken {
            throw Problem.conflict("You have a filter with this name already, or \(FilterStore.maxPerUser) filters.")
        }
    }
}
extension SavedFilter: ResponseEncodable {}
