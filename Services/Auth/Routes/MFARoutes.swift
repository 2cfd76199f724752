import Foundation
import Hummingbird
import ServiceKit

/// TOTP multi-factor: `/v1/auth/mfa/enroll`, `/confirm`, `/disable` (signed in) and
/// `/verify` (the second step of a login).
struct MFARoutes: Sendable {
    let accounts: AccountStore
    let mfa: MFAStore
    let signIn: SignIn
    let audit: AuditLog
    let throttle: LoginThrottle
    let issuerName: String

    struct Enrolment: ResponseEncodable {
        var secret: String
        var otpauthUri: String
    }

    struct CodeInput: Decodable {
        var code: String
    }

    struct RecoveryCodes: ResponseEncodable {
        var recoveryCodes: [String]
    }

    struct VerifyInput: Decodable {
        var mfaToken: String
        var code: String?
        var recoveryCode: String?
    }

    func add(to router: Router<ServiceRequestContext>, authenticated: RouterGroup<ServiceRequestContext>) {
        authenticated.post("v1/auth/mfa/enroll") { request, context in try await enroll(request, context) }
        authenticated.post("v1/auth/mfa/confirm") { request, context in try await confirm(request, context) }
        authenticated.post("v1/auth/mfa/disable") { request, context in try await disable(request, context) }
        router.post("v1/auth/mfa/verify") { request, context in try await verify(request, context) }
    }

    func user(_ context: ServiceRequestContext) throws -> (UUID, Identity) {
        let identity = try context.requireIdentity()
        guard let userID = identity.userID else { throw Problem.forbidden("Only users can use multi-factor authentication.") }
        return (userID, identity)
    }

    func enroll(_ request: Request, _ context: ServiceRequestContext) async throws -> Enrolment {
        let (userID, _) = try user(context)
        guard try await mfa.state(userID: userID) != .enabled else {
            throw Problem.conflict("Multi-factor authentication is already enabled; disable it first to enrol a new authenticator.")
        }
        guard let credentials = try await accounts.credentials(userID: userID) else { throw Problem.notFound("The user no longer exists.") }
        let totp = TOTP.randomSecret()
        try await mfa.beginEnrolment(userID: userID, totp: totp)
        return Enrolment(secret: Base32.encode(totp.secret), otpauthUri: totp.provisioningURI(account: credentials.user.email, issuer: issuerName))
    }

    func confirm(_ request: Request, _ context: ServiceRequestContext) async throws -> RecoveryCodes {
        let (userID, identity) = try user(context)
        let input = try await request.decodeJSON(CodeInput.self, context: context)
        guard try await mfa.state(userID: userID) == .pending else {
            throw Problem.conflict("There is no enrolment to confirm; start one at /v1/auth/mfa/enroll.")
        }
        guard let codes = try await mfa.confirm(userID: userID, code: input.code) else {
            throw Problem.validation([.init(field: "code", message: "does not match the authenticator")])
        }
        try await audit.record(request.actor(context).entry("mfa.enabled", tenant: identity.tenantID, target: "user:\(identity.subject)"))
        return RecoveryCodes(recoveryCodes: codes)
    }

    func disable(_ request: Request, _ context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let (userID, identity) = try user(context)
        let input = try await request.decodeJSON(CodeInput.self, context: context)
        guard try await mfa.state(userID: userID) == .enabled else { throw Problem.conflict("Multi-factor authentication is not enabled.") }
        let disabled = try await accounts.database.withTransaction { connection in
            var accepted = try await mfa.acceptCode(userID: userID, code: input.code, on: connection)
            if !accepted { accepted = try await mfa.useRecoveryCode(userID: userID, code: input.code, on: connection) }
            if accepted { try await mfa.disable(userID: userID, on: connection) }
            return accepted
        }
        let actor = request.actor(context)
        guard disabled else {
            try await audit.record(actor.entry("mfa.disable_failed", tenant: identity.tenantID, target: "user:\(identity.subject)", result: .failure))
            throw Problem.validation([.init(field: "code", message: "is neither a current code nor an unused recovery code")])
        }
        try await audit.record(actor.entry("mfa.disabled", tenant: identity.tenantID, target: "user:\(identity.subject)"))
        return .noContent
    }

    enum Outcome: Sendable {
        case expired
        case locked(UUID, UUID, seconds: Int)
        case wrongCode(UUID, UUID)
        case passed(UUID, UUID)
    }

    func verify(_ request: Request, _ context: ServiceRequestContext) async throws -> TokenResponse {
        let input = try await request.decodeJSON(VerifyInput.self, context: context)
        guard (input.code == nil) != (input.recoveryCode == nil) else {
            throw Problem.validation([.init(field: "code", message: "give exactly one of code and recoveryCode")])
        }
        // The attempt is counted even when the code is wrong, so it commits either way.
        let outcome: Outcome = try await accounts.database.withTransaction { connection in
            guard let (userID, tenantID) = try await mfa.attempt(input.mfaToken, on: connection) else { return .expired }
            // Each login mints a new challenge: the lock is the account's, not the challenge's.
            if let seconds = try await throttle.lockedFor([LoginThrottle.secondFactorKey(userID)]) {
                return .locked(userID, tenantID, seconds: seconds)
            }
            let passed =
                if let code = input.code {
                    try await mfa.acceptCode(userID: userID, code: code, on: connection)
                } else {
                    try await mfa.useRecoveryCode(userID: userID, code: input.recoveryCode ?? "", on: connection)
                }
            if passed { try await mfa.finishChallenge(input.mfaToken, on: connection) }
            return passed ? .passed(userID, tenantID) : .wrongCode(userID, tenantID)
        }
        let ip = request.clientIP(context)
        switch outcome {
        case .expired:
            throw Problem.unauthorized("The MFA token is invalid, expired or used up; log in again.")
        case .locked(let userID, let tenantID, let seconds):
            try await audit.record(
                Actor(subject: userID.uuidString.lowercased(), ip: ip).entry(
                    "login.mfa_locked", tenant: tenantID, target: "user:\(userID.uuidString.lowercased())", result: .denied))
            throw Problem.tooManyRequests("Too many wrong codes; try again later.", retryAfter: seconds)
        case .wrongCode(let userID, let tenantID):
            let lock = try await throttle.recordSecondFactorFailure(user: userID)
            let actor = Actor(subject: userID.uuidString.lowercased(), ip: ip)
            let target = "user:\(userID.uuidString.lowercased())"
            try await audit.record(actor.entry("login.mfa_failed", tenant: tenantID, target: target, result: .failure))
            if let lock {
                try await audit.record(
                    actor.entry("login.locked", tenant: tenantID, target: target, result: .denied, details: ["key": "mfa", "seconds": String(lock)]))
            }
            throw Problem.unauthorized("The code is not valid.")
        case .passed(let userID, let tenantID):
            try await throttle.recordSuccess(account: LoginThrottle.secondFactorKey(userID))
            guard let (user, membership) = try await accounts.profile(userID: userID, tenantID: tenantID) else {
                throw Problem.unauthorized("The membership behind this login no longer exists.")
            }
            let details = input.recoveryCode == nil ? [:] : ["method": "recovery_code"]
            try await audit.record(
                Actor(subject: userID.uuidString.lowercased(), ip: ip).entry(
                    "login.succeeded", tenant: tenantID, target: "user:\(userID.uuidString.lowercased())", details: details))
            return try await signIn.tokens(user: user, membership: membership)
        }
    }
}
