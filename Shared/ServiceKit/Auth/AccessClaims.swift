import Foundation
import JWTKit

/// The claims of an access token, as API.md lists them. Issued by auth, verified by
/// the gateway and again by every service.
public struct AccessClaims: JWTPayload, Equatable {
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var sub: SubjectClaim
    public var tid: String
    public var roles: [String]
    public var scope: String
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    /// Not issued by auth today; honoured when present (RFC 7519 §4.1.5).
    public var nbf: NotBeforeClaim?
    public var jti: IDClaim

    public init(
        issuer: String, audience: String, subject: String, tenantID: UUID, roles: [String], scope: String, issuedAt: Date, expiresAt: Date, id: String
    ) {
        self.iss = .init(value: issuer)
        self.aud = .init(value: [audience])
        self.sub = .init(value: subject)
        self.tid = tenantID.uuidString.lowercased()
        self.roles = roles
        self.scope = scope
        self.iat = .init(value: issuedAt.wholeSeconds)
        self.exp = .init(value: expiresAt.wholeSeconds)
        self.jti = .init(value: id)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-TokenVerifier.leeway))
        try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(TokenVerifier.leeway))
    }
}
