import Foundation
import Hummingbird
import ServiceKit

/// `POST/GET /v1/admin/invitations`, `DELETE /v1/admin/invitations/{id}`, and
/// `POST /v1/auth/invitations/accept`.
struct InvitationRoutes: Sendable {
    let invitations: InvitationStore
    let tenants: TenantStore
    let accounts: AccountStore
    let signIn: SignIn
    let passwords: PasswordHasher
    let access: AdminAccess
    let audit: AuditLog

    struct CreateInput: Decodable {
        var email: String
        var role: String
    }

    struct AcceptInput: Decodable {
        var token: String
        var name: String?
        var password: String?
    }

    func add(to router: Router<ServiceRequestContext>, authenticated group: RouterGroup<ServiceRequestContext>) {
        group.post("v1/admin/invitations") { request, context in try await create(request, context) }
        group.get("v1/admin/invitations") { request, context in
            let identity = try await access.require(request, context, action: "invitation.list")
            return try await invitations.list(tenantID: identity.tenantID, page: try PageRequest(request.queryItems))
        }
        group.delete("v1/admin/invitations/:id") { request, context -> HTTPResponse.Status in
            let identity = try await access.require(request, context, action: "invitation.revoke")
            let id = try context.uuidParameter("id")
            guard try await invitations.revoke(id, tenantID: identity.tenantID) != nil else { throw Problem.notFound() }
            try await audit.record(
                request.actor(context).entry("invitation.revoked", tenant: identity.tenantID, target: "invitation:\(id.uuidString.lowercased())"))
            return .noContent
        }
        router.post("v1/auth/invitations/accept") { request, context in try await accept(request, context) }
    }

    func create(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<InvitationRecord> {
        let identity = try await access.require(request, context, action: "invitation.create")
        let input = try await request.decodeJSON(CreateInput.self, context: context)
        var validator = Validator()
        let email = validator.text(input.email, "email", max: 254)
        if let email, !AccountRules.isPlausibleEmail(email) { validator.add("email", "is not a valid email address") }
        let role = Role(rawValue: input.role)
        validator.check(role != nil, "role", "must be one of owner, admin, member, viewer")
        try validator.finish()
        guard let email, let role else { throw Problem.badRequest("Invalid input.") }
        if role == .owner && !identity.roles.contains(Role.owner.rawValue) {
            try await audit.record(
                request.actor(context).entry("invitation.create", tenant: identity.tenantID, result: .denied, details: ["role": "owner"]))
            throw Problem.forbidden("Only owners can invite owners.")
        }
        guard let tenant = try await tenants.get(identity.tenantID) else { throw Problem.notFound() }
        var inviter: UserRecord?
        if let userID = identity.userID { inviter = try await accounts.credentials(userID: userID)?.user }
        let invitation = try await invitations.create(tenant: tenant, email: email, role: role, inviter: inviter)
        try await audit.record(
            request.actor(context).entry(
                "invitation.created", tenant: identity.tenantID, target: "invitation:\(invitation.id.uuidString.lowercased())",
                details: ["email": email, "role": role.rawValue]))
        return EditedResponse(status: .created, response: invitation)
    }

    func accept(_ request: Request, _ context: ServiceRequestContext) async throws -> TokenResponse {
        let input = try await request.decodeJSON(AcceptInput.self, context: context)
        guard let token = TenantToken(input.token) else { throw Problem.badRequest("The invitation is invalid, used, revoked or expired.") }
        guard let pending = try await invitations.pendingInvitation(token) else {
            throw Problem.badRequest("The invitation is invalid, used, revoked or expired.")
        }
        // A new account needs a name and an acceptable password; an existing one, its password.
        if try await accounts.credentials(email: pending.email) == nil {
            var validator = Validator()
            _ = validator.text(input.name, "name", max: 200)
            if let password = input.password {
                if let problem = AccountRules.passwordProblem(password, email: pending.email) { validator.add("password", problem) }
            } else {
                validator.add("password", "is required")
            }
            try validator.finish()
        }
        switch try await invitations.accept(
            token: token, name: input.name?.trimmingCharacters(in: .whitespacesAndNewlines), password: input.password, passwords: passwords)
        {
        case .needsPassword:
            throw Problem.unauthorized("This email address has an account: give its password to accept.")
        case .joined(let user, let membership):
            try await audit.record(
                Actor(subject: user.id.uuidString.lowercased(), ip: request.clientIP(context)).entry(
                    "invitation.accepted", tenant: membership.tenant.id, target: "user:\(user.id.uuidString.lowercased())",
                    details: ["role": membership.role]))
            return try await signIn.tokens(user: user, membership: membership)
        }
    }
}
