import Hummingbird
import ServiceKit

/// What an API client's token must hold for the experience routes (user tokens go by their
/// roles): `experience:read` to read, `experience:write` to write the catalogue and events.
enum ClientAccess {
    static let experience = ClientScopes(read: "experience:read", write: "experience:write")
}

extension Identity {
    /// Whose feed, events or settings a request is about: the signed-in user's own, or the
    /// user an API client names (`userId`); anything else is 422.
    func userKey(named: String?) throws -> String {
        switch InteractionRules.userKey(own: isAPIClient ? nil : subject, named: named) {
        case .success(let key): return key
        case .failure(let refusal): throw Problem.validation([.init(field: refusal.field, message: refusal.reason)])
        }
    }

    /// API clients and tenant admins act for every user of the tenant; a user, for themselves.
    var actsForEveryone: Bool { isAPIClient || !Identity.tenantAdminRoles.isDisjoint(with: roles) }
}
