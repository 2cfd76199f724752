import Foundation
import Hummingbird
import ServiceKit

/// Email verification and password reset, by single-use tokens sent through
/// `notifications.request.v1`.
struct EmailTokenRoutes: Sendable {
    let accounts: AccountStore
    let tokens: EmailTokenStore
    let sessions: SessionStore
    let passwords: PasswordHasher
    let throttle: LoginThrottle
    let audit: AuditLog

    struct TokenInput: Decodable {
        var token: String
    }

    struct ForgotInput: Decodable {
        var email: String
    }

    struct ResetInput: Decodable {
        var token: String
        var password: String
    }

    func add(to router: Router<ServiceRequestContext>, authenticated: RouterGroup<ServiceRequestContext>) {
        router.post("v1/auth/email/verify") { request, context in try await verify(request, context) }
        authenticated.post("v1/auth/email/verify/resend") { request, context in try await resend(request, context) }
        router.post("v1/auth/password/forgot") { request, context in try await forgot(request, context) }
        router.post("v1/auth/password/reset") { request, context in try await reset(request, context) }
    }

    func verify(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decodeJSON(TokenInput.self, context: context)
        let verified = try await accounts.database.withTransaction { connection in
            guard let userID = try await tokens.consume(input.token, purpose: .verifyEmail, on: connection) else { return false }
            try await accounts.markVerified(userID: userID, on: connection)
            return true
        }
        guard verified else { throw Problem.badRequest("The verification link is invalid, used or expired; request a new one.") }
        return .noContent
    }

    func resend(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        guard let userID = identity.userID, let credentials = try await accounts.credentials(userID: userID) else {
            throw Problem.forbidden("Only users have an email address to verify.")
        }
        guard !credentials.user.emailVerified else { throw Problem.conflict("The email address is already verified.") }
        try await accounts.database.withTransaction { connection in
            let token = try await tokens.issue(userID: userID, purpose: .verifyEmail, on: connection)
            try await accounts.outbox.email(
                "auth.verify_email", to: .init(userId: userID, email: credentials.user.email), tenantID: identity.tenantID,
                idempotencyKey: "auth.verify_email/\(token.hash.hexDigest())", data: ["name": credentials.user.name, "token": token.text],
                on: connection)
        }
        return .accepted
    }

    /// Always 202, whether or not the address has an account: the answer must not tell.
    func forgot(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decodeJSON(ForgotInput.self, context: context)
        guard AccountRules.isPlausibleEmail(input.email.trimmingCharacters(in: .whitespaces)) else {
            throw Problem.validation([.init(field: "email", message: "is not a valid email address")])
        }
        guard let credentials = try await accounts.credentials(email: input.email),
            let tenant = try await accounts.memberships(of: credentials.user.id).first?.tenant
        else { return .accepted }
        try await accounts.database.withTenant(tenant.id) { connection in
            let token = try await tokens.issue(userID: credentials.user.id, purpose: .resetPassword, on: connection)
            try await accounts.outbox.email(
                "auth.password_reset", to: .init(userId: credentials.user.id, email: credentials.user.email), tenantID: tenant.id,
                idempotencyKey: "auth.password_reset/\(token.hash.hexDigest())", category: "security",
                data: ["name": credentials.user.name, "token": token.text], on: connection)
            try await audit.record(
                request.actor(context).entry(
                    "password.reset_requested", tenant: tenant.id, target: "user:\(credentials.user.id.uuidString.lowercased())"),
                on: connection)
        }
        return .accepted
    }

    /// Sets the new password and ends every session of the user, in every tenant.
    func reset(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decodeJSON(ResetInput.self, context: context)
        guard input.password.utf8.count <= AccountRules.maximumPasswordLength else {
            throw Problem.validation([.init(field: "password", message: "must be at most \(AccountRules.maximumPasswordLength) bytes")])
        }
        let hash = try await passwords.hash(input.password)
        let outcome: (UUID, String, [UUID])? = try await accounts.database.withTransaction { connection in
            guard let userID = try await tokens.consume(input.token, purpose: .resetPassword, on: connection) else { return nil }
            guard let credentials = try await accounts.credentials(userID: userID) else { return nil }
            if let problem = AccountRules.passwordProblem(input.password, email: credentials.user.email) {
                throw Problem.validation([.init(field: "password", message: problem)])
            }
            try await accounts.setPassword(userID: userID, hash: hash, on: connection)
            // Following the link proves control of the address.
            try await accounts.markVerified(userID: userID, on: connection)
            let tenants = try await accounts.memberships(of: userID, on: connection).map(\.tenant.id)
            try await sessions.revokeAll(userID: userID, tenants: tenants, on: connection)
            return (userID, AccountRules.normalizedEmail(credentials.user.email), tenants)
        }
        guard let (userID, email, tenants) = outcome else {
            throw Problem.badRequest("The reset link is invalid, used or expired; request a new one.")
        }
        try await throttle.recordSuccess(account: LoginThrottle.accountKey(email))
        for tenant in tenants {
            try await audit.record(request.actor(context).entry("password.reset", tenant: tenant, target: "user:\(userID.uuidString.lowercased())"))
        }
        return .noContent
    }
}
