import Foundation
import JWTKit
import ServiceKit
import Synchronization

/// Signs access tokens with the active key; also verifies them for auth's own routes.
final class TokenIssuer: Sendable {
    let keys = JWTKeyCollection()
    let issuer: String
    let audience: String
    let lifetime: Int
    private let activeKeyID = Mutex<String?>(nil)

    init(issuer: String, audience: String, lifetime: Int) {
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
    }

    func use(_ key: SigningKeyStore.ActiveKey) async {
        await keys.add(ecdsa: key.key, kid: JWKIdentifier(string: key.kid))
        activeKeyID.withLock { $0 = key.kid }
    }

    struct Issued: Sendable {
        var token: String
        var expiresIn: Int
    }

    func issue(subject: String, tenantID: UUID, roles: [String], scope: String) async throws -> Issued {
        guard let kid = activeKeyID.withLock({ $0 }) else { throw Problem(status: .serviceUnavailable, detail: "Signing keys are not loaded yet.") }
        let now = Date()
        let claims = AccessClaims(
            issuer: issuer, audience: audience, subject: subject, tenantID: tenantID, roles: roles, scope: scope,
            issuedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), id: UUID.v7().uuidString.lowercased()
        )
        let token = try await keys.sign(claims, kid: JWKIdentifier(string: kid))
        return Issued(token: token, expiresIn: lifetime)
    }
}
