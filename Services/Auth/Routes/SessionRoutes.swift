import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOPosix
import ServiceKit

/// `/v1/auth/signup`, `/login`, `/refresh`, `/me`.
struct SessionRoutes: Sendable {
    let accounts: AccountStore
    let sessions: SessionStore
    let issuer: TokenIssuer
    let bcryptCost: UInt8

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

    struct TokenResponse: ResponseEncodable {
        var accessToken: String
        var refreshToken: String
        var tokenType = "Bearer"
        var expiresIn: Int
        var user: UserRecord
        var tenant: TenantRecord
        var roles: [String]
    }

    struct MeResponse: ResponseEncodable {
        var user: UserRecord
        var tenant: TenantRecord
        var roles: [String]
    }

    func add(to router: Router<ServiceRequestContext>, verifier: TokenVerifier) {
        let auth = router.group("v1/auth")
        auth.post("signup") { request, context in try await signup(request, context) }
        auth.post("login") { request, context in try await login(request, context) }
        auth.post("refresh") { request, context in try await refresh(request, context) }
        auth.group("me").add(middleware: AuthenticationMiddleware(verifier: verifier)).get { _, context in try await me(context) }
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

        let hash = try await hashPassword(input.password)
        let (user, tenant): (UserRecord, TenantRecord)
        do {
            (user, tenant) = try await accounts.signUp(
                email: email, name: name, passwordHash: hash, tenantName: tenantName, slug: AccountRules.slug(from: tenantName))
        } catch AccountError.emailTaken {
            throw Problem.conflict("An account with this email address exists; log in instead.")
        }
        let response = try await tokens(user: user, membership: Membership(tenant: tenant, role: Role.owner.rawValue))
        return EditedResponse(status: .created, response: response)
    }

    func login(_ request: Request, _ context: ServiceRequestContext) async throws -> TokenResponse {
        let input = try await request.decodeJSON(LoginInput.self, context: context)
        let invalid = Problem.unauthorized("Invalid email or password.")
        let credentials = try await accounts.credentials(email: input.email)
        // Hash even when the user does not exist, so timing does not reveal which emails have accounts.
        let matches = try await verifyPassword(input.password, hash: credentials?.passwordHash ?? Self.dummyHash)
        guard let credentials, credentials.passwordHash != nil, matches else { throw invalid }

        let memberships = try await accounts.memberships(of: credentials.user.id)
        let membership: Membership
        if let wanted = input.tenant?.lowercased() {
            guard let match = memberships.first(where: { $0.tenant.slug == wanted || $0.tenant.id.uuidString.lowercased() == wanted }) else {
                throw invalid
            }
            membership = match
        } else if memberships.count == 1 {
            membership = memberships[0]
        } else if memberships.isEmpty {
            throw invalid
        } else {
            var problem = Problem.conflict("This account belongs to several tenants; name one in `tenant`: \(memberships.map(\.tenant.slug).joined(separator: ", ")).")
            problem.errors = memberships.map { .init(field: "tenant", message: $0.tenant.slug) }
            throw problem
        }
        guard membership.tenant.status == "active" else { throw Problem.forbidden("This tenant is suspended.") }
        return try await tokens(user: credentials.user, membership: membership)
    }

    func refresh(_ request: Request, _ context: ServiceRequestContext) async throws -> TokenResponse {
        let input = try await request.decodeJSON(RefreshInput.self, context: context)
        guard let token = RefreshToken(input.refreshToken) else { throw Problem.unauthorized("The refresh token is invalid.") }
        switch try await sessions.refresh(token) {
        case .invalid:
            throw Problem.unauthorized("The refresh token is invalid or expired.")
        case .reused:
            context.logger.warning("refresh token reuse detected; family revoked", metadata: ["tenant_id": "\(token.tenantID)"])
            throw Problem.unauthorized("The refresh token was already used; the session has been ended.")
        case .rotated(let successor, let userID):
            guard let (user, membership) = try await accounts.profile(userID: userID, tenantID: token.tenantID) else {
                throw Problem.unauthorized("The membership behind this session no longer exists.")
            }
            guard membership.tenant.status == "active" else { throw Problem.forbidden("This tenant is suspended.") }
            let access = try await issuer.issue(
                subject: user.id.uuidString.lowercased(), tenantID: membership.tenant.id, roles: [membership.role], scope: "")
            return TokenResponse(
                accessToken: access.token, refreshToken: successor.text, expiresIn: access.expiresIn, user: user,
                tenant: membership.tenant, roles: [membership.role])
        }
    }

    func me(_ context: ServiceRequestContext) async throws -> MeResponse {
        let identity = try context.requireIdentity()
        guard let userID = identity.userID, let (user, membership) = try await accounts.profile(userID: userID, tenantID: identity.tenantID) else {
            throw Problem.notFound("The user of this token no longer exists.")
        }
        return MeResponse(user: user, tenant: membership.tenant, roles: [membership.role])
    }

    func tokens(user: UserRecord, membership: Membership) async throws -> TokenResponse {
        let access = try await issuer.issue(
            subject: user.id.uuidString.lowercased(), tenantID: membership.tenant.id, roles: [membership.role], scope: "")
        let refresh = try await sessions.start(userID: user.id, tenantID: membership.tenant.id)
        return TokenResponse(
            accessToken: access.token, refreshToken: refresh.text, expiresIn: access.expiresIn, user: user,
            tenant: membership.tenant, roles: [membership.role])
    }

    // bcrypt takes tens of milliseconds of CPU: run it on NIO's blocking thread pool,
    // not on one of the two Swift concurrency threads.
    func hashPassword(_ password: String) async throws -> String {
        let cost = bcryptCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A bcrypt hash of a random string, for timing-equal failures on unknown emails.
    static let dummyHash = Bcrypt.hash(UUID().uuidString, cost: 10)
}
