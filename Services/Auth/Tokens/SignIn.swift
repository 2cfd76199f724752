import Foundation
import Hummingbird
import ServiceKit

/// Our token pair and who it is for: the answer of every way to sign in.
struct TokenResponse: ResponseEncodable {
    var accessToken: String
    var refreshToken: String
    var tokenType = "Bearer"
    var expiresIn: Int
    var user: UserRecord
    var tenant: TenantRecord
    var roles: [String]
}

/// The last step shared by password login, MFA, invitations and social login: pick the
/// tenant, check it may sign in, issue the access token and start a refresh family.
struct SignIn: Sendable {
    static let platformTenantSlug = "platform"
    static let platformScope = Identity.operatorScope

    let accounts: AccountStore
    let sessions: SessionStore
    let issuer: TokenIssuer
    let mfa: MFAStore
    let audit: AuditLog

    /// The first step of a login with MFA: present `mfaToken` and a code at `/v1/auth/mfa/verify`.
    struct MFARequired: ResponseEncodable {
        var mfaRequired = true
        var mfaToken: String
        var expiresIn: Int
    }

    /// After a first factor (password, social provider): an MFA challenge when the user has
    /// MFA, otherwise tokens; audited either way. `method` goes into the audit details.
    func afterFirstFactor(
        user: UserRecord, mfaEnabled: Bool, membership: Membership, actor: Actor, method: String?, request: Request,
        context: ServiceRequestContext
    ) async throws -> Response {
        try Self.requireActive(membership)
        let target = "user:\(user.id.uuidString.lowercased())"
        let details = method.map { ["method": $0] } ?? [:]
        if mfaEnabled {
            let challenge = try await mfa.createChallenge(userID: user.id, tenantID: membership.tenant.id)
            try await audit.record(actor.entry("login.mfa_challenge", tenant: membership.tenant.id, target: target, details: details))
            return try MFARequired(mfaToken: challenge.text, expiresIn: MFAStore.challengeLifetime).response(from: request, context: context)
        }
        try await audit.record(actor.entry("login.succeeded", tenant: membership.tenant.id, target: target, details: details))
        return try await tokens(user: user, membership: membership).response(from: request, context: context)
    }

    /// The membership named by `wanted` (slug or id), the only one, or a 409 listing them.
    func choose(_ memberships: [Membership], wanted: String?, otherwise refusal: Problem) throws -> Membership {
        if let wanted = wanted?.lowercased() {
            guard let match = memberships.first(where: { $0.tenant.slug == wanted || $0.tenant.id.uuidString.lowercased() == wanted }) else {
                throw refusal
            }
            return match
        }
        if memberships.count == 1 { return memberships[0] }
        if memberships.isEmpty { throw refusal }
        let slugs = memberships.map(\.tenant.slug)
        var problem = Problem.conflict("This account belongs to several tenants; name one in `tenant`: \(slugs.joined(separator: ", ")).")
        problem.errors = slugs.map { .init(field: "tenant", message: $0) }
        throw problem
    }

    static func requireActive(_ membership: Membership) throws {
        guard membership.tenant.status == "active" else { throw Problem.forbidden("This tenant is suspended.") }
    }

    /// Operators hold `platform:admin` only in the platform tenant, so their everyday
    /// tokens for other tenants carry no platform power.
    static func scope(user: UserRecord, membership: Membership) -> String {
        user.platformOperator && membership.tenant.slug == platformTenantSlug ? platformScope : ""
    }

    func accessToken(user: UserRecord, membership: Membership) async throws -> TokenIssuer.Issued {
        try await issuer.issue(
            subject: user.id.uuidString.lowercased(), tenantID: membership.tenant.id, roles: [membership.role],
            scope: Self.scope(user: user, membership: membership))
    }

    func tokens(user: UserRecord, membership: Membership) async throws -> TokenResponse {
        try Self.requireActive(membership)
        let access = try await accessToken(user: user, membership: membership)
        let refresh = try await sessions.start(userID: user.id, tenantID: membership.tenant.id)
        return TokenResponse(
            accessToken: access.token, refreshToken: refresh.text, expiresIn: access.expiresIn, user: user, tenant: membership.tenant,
            roles: [membership.role])
    }
}
