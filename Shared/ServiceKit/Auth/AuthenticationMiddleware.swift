import Hummingbird

/// Requires a valid bearer access token and puts the verified identity in the context;
/// an API client's token must hold the group's scope (`ClientScopes`).
public struct AuthenticationMiddleware<Context: ServiceContext>: RouterMiddleware {
    let verifier: TokenVerifier
    let clients: ClientScopes

    public init(verifier: TokenVerifier, clients: ClientScopes = .usersOnly) {
        self.verifier = verifier
        self.clients = clients
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Problem.unauthorized("A bearer access token is required.")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        var context = context
        var identity = try await verifier.verify(token)
        if identity.isAPIClient { identity = try clients.admit(identity, method: request.method) }
        context.identity = identity
        context.logger[metadataKey: "tenant_id"] = .string(identity.tenantID.uuidString.lowercased())
        return try await next(request, context)
    }
}

extension Identity {
    /// The roles that administer a tenant (its admin console).
    public static let tenantAdminRoles: Set<String> = ["owner", "admin"]
    /// The scope of platform operators, who act across tenants.
    public static let operatorScope = "platform:admin"

    public var isPlatformOperator: Bool { scopes.contains(Self.operatorScope) }

    /// 403 unless the caller is an owner or admin of its tenant.
    public func requireTenantAdmin() throws {
        try require(anyOf: Self.tenantAdminRoles)
    }

    /// Who may change a tenant's data (a viewer only reads; an API client with the write
    /// scope is admitted as a member).
    public static let writerRoles: Set<String> = ["owner", "admin", "member"]

    /// 403 unless the caller may change the tenant's data.
    public func requireWriter() throws {
        try require(anyOf: Self.writerRoles)
    }

    /// 403 unless the caller holds one of `roles` in its tenant.
    public func require(anyOf roles: Set<String>) throws {
        guard !roles.isDisjoint(with: self.roles) else {
            throw Problem.forbidden("This action needs one of the roles: \(roles.sorted().joined(separator: ", ")).")
        }
    }
}
