import Foundation
import JWTKit
import Metrics
import ServiceKit
import Synchronization

/// Signs access tokens with the active key, re-reading which key is active every
/// `reloadInterval` seconds so a rotation reaches every replica without a restart.
final class TokenIssuer: Sendable {
    let keys = JWTKeyCollection()
    let issuer: String
    let audience: String
    let lifetime: Int
    let reloadInterval: TimeInterval
    private let loadKey: @Sendable () async throws -> SigningKeyStore.ActiveKey
    private let active = Mutex<(kid: String, loadedAt: Date)?>(nil)

    init(
        issuer: String, audience: String, lifetime: Int, reloadInterval: TimeInterval = 30,
        loadKey: @escaping @Sendable () async throws -> SigningKeyStore.ActiveKey
    ) {
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.reloadInterval = reloadInterval
        self.loadKey = loadKey
    }

    /// `auth_signing_key_activated_timestamp_seconds`: when the key this replica signs with
    /// started signing (a timestamp, so its age is `time() - it` whether or not tokens are issued).
    static let keyActivated = Gauge(label: "auth_signing_key_activated_timestamp_seconds")

    /// The active key id, loading it when none is loaded or the last load is old.
    func activeKeyID() async throws -> String {
        if let current = active.withLock({ $0 }), Date().timeIntervalSince(current.loadedAt) < reloadInterval { return current.kid }
        let key = try await loadKey()
        Self.keyActivated.record(key.activatedAt.timeIntervalSince1970)
        await keys.add(ecdsa: key.key, kid: JWKIdentifier(string: key.kid))
        active.withLock { $0 = (key.kid, Date()) }
        return key.kid
    }

    struct Issued: Sendable {
        var token: String
        var expiresIn: Int
    }

    func issue(subject: String, tenantID: UUID, roles: [String], scope: String) async throws -> Issued {
        let kid = try await activeKeyID()
        let now = Date()
        let claims = AccessClaims(
            issuer: issuer, audience: audience, subject: subject, tenantID: tenantID, roles: roles, scope: scope,
            issuedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), id: UUID.v7().uuidString.lowercased()
        )
        let token = try await keys.sign(claims, kid: JWKIdentifier(string: kid))
        return Issued(token: token, expiresIn: lifetime)
    }
}
