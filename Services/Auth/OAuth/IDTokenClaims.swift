import Foundation
import JWTKit
import ServiceKit

/// The claims we read from a provider's ID token (OpenID Connect Core §2).
struct IDTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nonce: String?
    var email: String?
    var email_verified: LenientBool?
    var name: String?
    /// Microsoft's tenant id, which its `iss` contains.
    var tid: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
    }
}

/// A boolean some providers send as a string (Apple: `"email_verified": "true"`).
struct LenientBool: Codable, Sendable {
    var value: Bool

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            value = bool
        } else {
            value = (try container.decode(String.self)).lowercased() == "true"
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Apple's client secret: an ES256 JWT we sign with the key Apple issued us
/// (Sign in with Apple REST API, "Creating a client secret").
struct AppleClientSecret: JWTPayload {
    var iss: IssuerClaim
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var aud: AudienceClaim
    var sub: SubjectClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    static func make(clientID: String, signing: OAuthProviderConfiguration.AppleSigning) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PrivateKey(pem: signing.privateKeyPEM), kid: JWKIdentifier(string: signing.keyID))
        let now = Date().wholeSeconds
        let claims = AppleClientSecret(
            iss: .init(value: signing.teamID), iat: .init(value: now), exp: .init(value: now.addingTimeInterval(3600)),
            aud: .init(value: ["https://appleid.apple.com"]), sub: .init(value: clientID))
        return try await keys.sign(claims, kid: JWKIdentifier(string: signing.keyID))
    }
}
