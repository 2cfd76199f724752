import Foundation
import Hummingbird
import ServiceKit

/// `POST/GET /v1/admin/api-clients`, `DELETE /v1/admin/api-clients/{id}`.
struct APIClientRoutes: Sendable {
    let clients: APIClientStore
    let tenants: TenantStore
    let access: AdminAccess
    let audit: AuditLog

    struct CreateInput: Decodable {
        var name: String
        var scopes: [String]
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.post("v1/admin/api-clients") { request, context in try await create(request, context) }
        group.get("v1/admin/api-clients") { request, context in
            let identity = try await access.require(request, context, action: "api_client.list")
            return try await clients.list(tenantID: identity.tenantID, page: try PageRequest(request.queryItems))
        }
        group.delete("v1/admin/api-clients/:id") { request, context -> HTTPResponse.Status in
            let identity = try await access.require(request, context, action: "api_client.revoke")
            let id = try context.uuidParameter("id")
            guard let client = try await clients.revoke(id, tenantID: identity.tenantID) else { throw Problem.notFound() }
            try await audit.record(request.actor(context).entry("api_client.revoked", tenant: identity.tenantID, target: "client:\(client.clientId)"))
            return .noContent
        }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<APIClientRecord> {
        let identity = try await access.require(request, context, action: "api_client.create")
        let input = try await request.decodeJSON(CreateInput.self, context: context)
        var validator = Validator()
        let name = validator.text(input.name, "name", max: 200)
        validator.check(!input.scopes.isEmpty, "scopes", "must name at least one scope")
        for scope in input.scopes where !APIScope.all.contains(scope) {
            validator.add("scopes", "\(scope) is not a scope; choose from \(APIScope.all.sorted().joined(separator: ", "))")
        }
        try validator.finish()
        guard let name, let tenant = try await tenants.get(identity.tenantID) else { throw Problem.badRequest("Invalid input.") }
        let client = try await clients.create(tenant: tenant, name: name, scopes: Array(Set(input.scopes)).sorted(), createdBy: identity.userID)
        try await audit.record(
            request.actor(context).entry(
                "api_client.created", tenant: identity.tenantID, target: "client:\(client.clientId)",
                details: ["scopes": client.scopes.joined(separator: " ")]))
        return EditedResponse(status: .created, response: client)
    }
}
