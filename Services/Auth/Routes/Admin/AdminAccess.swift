import Foundation
import Hummingbird
import ServiceKit

/// The gate of every admin console route: the caller must be a user holding `owner` or
/// `admin` in the token's tenant. Refusals are written to the audit log.
struct AdminAccess: Sendable {
    static let roles: Set<String> = [Role.owner.rawValue, Role.admin.rawValue]
    let audit: AuditLog

    func require(_ request: Request, _ context: ServiceRequestContext, action: String) async throws -> Identity {
        let identity = try context.requireIdentity()
        do {
            guard identity.userID != nil else { throw Problem.forbidden("API clients cannot use the admin console.") }
            try identity.require(anyOf: Self.roles)
        } catch let problem as Problem {
            try await audit.record(request.actor(context).entry(action, tenant: identity.tenantID, result: .denied))
            throw problem
        }
        return identity
    }
}

extension ServiceRequestContext {
    /// A UUID path parameter; anything else names no resource, so 404.
    func uuidParameter(_ name: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw Problem.notFound() }
        return id
    }
}
