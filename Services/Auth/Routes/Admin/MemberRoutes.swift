import Foundation
import Hummingbird
import ServiceKit

/// `GET /v1/admin/members`, `PATCH` and `DELETE /v1/admin/members/{userId}`.
struct MemberRoutes: Sendable {
    let members: MemberStore
    let access: AdminAccess
    let audit: AuditLog

    struct Patch: Decodable {
        var role: String
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.get("v1/admin/members") { request, context in
            let identity = try await access.require(request, context, action: "member.list")
            return try await members.list(tenantID: identity.tenantID, page: try PageRequest(request.queryItems))
        }
        group.patch("v1/admin/members/:userId") { request, context in
            let identity = try await access.require(request, context, action: "member.role_change")
            let userID = try context.uuidParameter("userId")
            let input = try await request.decodeJSON(Patch.self, context: context)
            guard let role = Role(rawValue: input.role) else {
                throw Problem.validation([.init(field: "role", message: "must be one of owner, admin, member, viewer")])
            }
            return try await apply(
                .role(role), to: userID, identity, request, context, action: "member.role_changed", details: ["role": role.rawValue])
        }
        group.delete("v1/admin/members/:userId") { request, context -> HTTPResponse.Status in
            let identity = try await access.require(request, context, action: "member.remove")
            _ = try await apply(.removal, to: try context.uuidParameter("userId"), identity, request, context, action: "member.removed", details: [:])
            return .noContent
        }
    }

    func apply(
        _ change: MemberStore.Change, to userID: UUID, _ identity: Identity, _ request: Request, _ context: ServiceRequestContext, action: String,
        details: [String: String]
    ) async throws -> MemberRecord {
        let actor = request.actor(context)
        let target = "user:\(userID.uuidString.lowercased())"
        do {
            guard let member = try await members.apply(change, to: userID, tenantID: identity.tenantID, actorRoles: identity.roles) else {
                throw Problem.notFound("There is no such member in this tenant.")
            }
            try await audit.record(actor.entry(action, tenant: identity.tenantID, target: target, details: details))
            return member
        } catch let refusal as AuthStoreError where refusal == .ownerRoleByOwnersOnly || refusal == .lastOwner {
            try await audit.record(actor.entry(action, tenant: identity.tenantID, target: target, result: .denied, details: details))
            throw refusal
        }
    }
}
