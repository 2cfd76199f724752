import Foundation
import Hummingbird
import Logging
import Metrics
import ServiceKit

/// `/v1/auth/signup`, `/login`, `/refresh`, `/logout`, `/logout-all`, `/me`.
struct SessionRoutes: Sendable {
    let accounts: AccountStore
    let signIn: SignIn
    let passwords: PasswordHasher
    let throttle: LoginThrottle
    let audit: AuditLog
    var sessions: SessionStore { signIn.sessions }

    struct SignupInput: Decodable {
        var email: String
        var password: String
        var name: String
        var tenantName: String
    }

    struct LoginInput: Decodable {
        var email: String
        var password: String
        var tenant: String?
    }

    struct RefreshInput: Decodable {
        var refreshToken: String
    }

    struct MeResponse: ResponseEncodable {
        var user: UserRecord
        var tenant: TenantRecord
        var roles: [String]
        var scopes: [String]
    }

    func add(to router: Router<ServiceRequestContext>, authenticated: RouterGroup<ServiceRequestContext>) {
        let auth = router.group("v1/auth")
        auth.post("signup") { request, context in try await signup(request, context) }
        auth.post("login") { request, context in try await login(request, context) }
        auth.post("refresh") { request, context in try await refresh(request, context) }
        auth.post("logout") { request, context in try await logout(request, context) }
        authenticated.post("v1/auth/logout-all") { request, context in try await logoutAll(request, context) }
        authenticated.get("v1/auth/me") { _, context in try await me(context) }
    }

    func signup(_ request: Request, _ context: ServiceRequestContext) async throws -> EditedResponse<TokenResponse> {
        let input = try await request.decodeJSON(SignupInput.self, context: context)
        var validator = Validator()
        let email = validator.text(input.email, "email", max: 254)
        if let email, !AccountRules.isPlausibleEmail(email) { validator.add("email", "is not a valid email address") }
        if let problem = AccountRules.passwordProblem(input.password, email: input.email) { validator.add("password", problem) }
        let name = validator.text(input.name, "name", max: 200)
        let tenantName = validator.text(input.tenantName, "tenantName", max: 200)
        try validator.finish()
        guard let email, let name, let tenantName else { throw Problem.badRequest("Invalid input.") }

        let hash = try await passwords.hash(input.password)
        let (user, tenant): (UserRecord, TenantRecord)
        do {
            (user, tenant) = try await accounts.signUp(
                email: email, name: name, passwordHash: hash, tenantName: tenantName, slug: AccountRules.slug(from: tenantName))
        } catch AccountError.emailTaken {
            throw Problem.conflict("An account with this email address exists; log in instead.")
        }
        try await audit.record(request.actor(context).entry("tenant.created", tenant: tenant.id, target: "tenant:\(tenant.id)"))
        let response = try await signIn.tokens(user: user, membership: Membership(tenant: tenant, role: Role.owner.rawValue))
        return EditedResponse(status: .created, response: response)
    }

    /// `auth_logins_total{outcome}`: password logins that passed, failed, or met a lockout
    /// (the alert on failures watches for credential stuffing).
    static let logins = (
        succeeded: Counter(label: "auth_logins_total", dimensions: [("outcome", "succeeded")]),
        failed: Counter(label: "auth_logins_total", dimensions: [("outcome", "failed")]),
        locked: Counter(label: "auth_logins_total", dimensions: [("outcome", "locked")])
    )

    func login(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(LoginInput.self, context: context)
        let ip = request.clientIP(context)
        let accountKey = LoginThrottle.accountKey(AccountRules.normalizedEmail(input.email))
        let keys = [accountKey] + (ip.map { [LoginThrottle.ipKey($0)] } ?? [])
        if let seconds = try await throttle.lockedFor(keys) {
            Self.logins.locked.increment()
            throw Problem.tooManyRequests("Too many failed logins; try again later.", retryAfter: seconds)
        }
        let credentials = try await accounts.credentials(email: input.email)
        let matches = try await passwords.verify(input.password, hash: credentials?.passwordHash)
        guard let credentials, matches else {
            Self.logins.failed.increment()
            try await recordFailure(accountKey: accountKey, ip: ip, userID: credentials?.user.id, email: input.email)
            throw Problem.unauthorized("Invalid email or password.")
        }
        Self.logins.succeeded.increment()
        try await throttle.recordSuccess(account: accountKey)
        let memberships = try await accounts.memberships(of: credentials.user.id)
        let membership = try signIn.choose(memberships, wanted: input.tenant, otherwise: Problem.unauthorized("Invalid email or password."))
        return try await signIn.afterFirstFactor(
            user: credentials.user, mfaEnabled: credentials.mfaEnabled, membership: membership,
            actor: Actor(subject: credentials.user.id.uuidString.lowercased(), ip: ip), method: nil, request: request, context: context)
    }

    /// Counts the failure and writes it to the audit log of every tenant the account
    /// belongs to (or the platform's, for an unknown email), with any lockout it caused.
    func recordFailure(accountKey: String, ip: String?, userID: UUID?, email: String) async throws {
        let locks = try await throttle.recordFailure(account: accountKey, ip: ip.map(LoginThrottle.ipKey))
        var tenants: [UUID?] = [nil]
        if let userID { tenants = try await accounts.memberships(of: userID).map(\.tenant.id) }
        let actor = Actor(subject: nil, ip: ip)
        for tenant in tenants {
            let target = userID.map { "user:\($0.uuidString.lowercased())" } ?? "email:\(AccountRules.normalizedEmail(email))"
            try await audit.record(actor.entry("login.failed", tenant: tenant, target: target, result: .failure))
            for (key, seconds) in locks {
                try await audit.record(
                    actor.entry("login.locked", tenant: tenant, target: target, result: .denied, details: ["key": key, "seconds": String(seconds)]))
            }
        }
    }

    func refresh(_ request: Request, _ context: ServiceRequestContext) async throws -> TokenResponse {
        let input = try await request.decodeJSON(RefreshInput.self, context: context)
        return try await rotate(input.refreshToken, actor: request.actor(context), logger: context.logger)
    }

    /// Shared by `/refresh` and the token endpoint's `refresh_token` grant.
    func rotate(_ text: String, actor: Actor, logger: Logger) async throws -> TokenResponse {
        guard let token = TenantToken(text) else { throw Problem.unauthorized("The refresh token is invalid.") }
        switch try await sessions.refresh(token) {
        case .invalid:
            throw Problem.unauthorized("The refresh token is invalid or expired.")
        case .reused:
            logger.warning("refresh token reuse detected; family revoked", metadata: ["tenant_id": "\(token.tenantID)"])
            try await audit.record(actor.entry("session.reuse_detected", tenant: token.tenantID, result: .denied))
            throw Problem.unauthorized("The refresh token was already used; the session has been ended.")
        case .rotated(let successor, let profile):
            guard let (user, membership) = profile else {
                throw Problem.unauthorized("The membership behind this session no longer exists.")
            }
            try SignIn.requireActive(membership)
            let access = try await signIn.accessToken(user: user, membership: membership)
            return TokenResponse(
                accessToken: access.token, refreshToken: successor.text, expiresIn: access.expiresIn, user: user,
                tenant: membership.tenant, roles: [membership.role])
        }
    }

    func logout(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decodeJSON(RefreshInput.self, context: context)
        guard let token = TenantToken(input.refreshToken), try await sessions.revokeFamily(of: token) else {
            throw Problem.unauthorized("The refresh token is invalid.")
        }
        try await audit.record(request.actor(context).entry("session.logout", tenant: token.tenantID))
        return .noContent
    }

    /// Ends every session of the caller, in every tenant.
    func logoutAll(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let identity = try context.requireIdentity()
        guard let userID = identity.userID else { throw Problem.forbidden("Only users have sessions.") }
        let tenants = try await accounts.memberships(of: userID).map(\.tenant.id)
        try await accounts.database.withTransaction { connection in
            try await sessions.revokeAll(userID: userID, tenants: tenants, on: connection)
        }
        try await audit.record(request.actor(context).entry("session.logout_all", tenant: identity.tenantID, target: "user:\(identity.subject)"))
        return .noContent
    }

    func me(_ context: ServiceRequestContext) async throws -> MeResponse {
        let identity = try context.requireIdentity()
        guard let userID = identity.userID, let (user, membership) = try await accounts.profile(userID: userID, tenantID: identity.tenantID) else {
            throw Problem.notFound("The user of this token no longer exists.")
        }
        return MeResponse(user: user, tenant: membership.tenant, roles: [membership.role], scopes: identity.scopes)
    }
}
