import Crypto
import Foundation
import JWTKit
import Persistence
import PostgresNIO
import ServiceKit

/// Signing keys in the auth schema, private halves sealed with AES-GCM.
///
/// A key is published in the JWKS from the moment it is created, signs from
/// `activates_at`, and stays published after `retired_at` until every token it signed
/// has expired. Rotation therefore never makes a verifier meet an unknown `kid`.
struct SigningKeyStore: Sendable {
    let database: Database
    let sealer: KeySealer
    /// How long a retired key stays in the JWKS: the longest token lifetime plus leeway.
    var retiredKeyLifetime: Int = 900 + 120

    struct ActiveKey: Sendable {
        var kid: String
        var key: ES256PrivateKey
        /// When it started signing (how old it is: the alert asks for a rotation at 90 days).
        var activatedAt: Date
    }

    /// The newest key that has started signing, creating the first one if there is none.
    /// An advisory lock keeps replicas starting together from creating two.
    func activeKey() async throws -> ActiveKey {
        try await database.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))", logger: database.logger)
            let rows = try await connection.query(
                """
                SELECT kid, private_key_sealed, activates_at FROM auth.signing_keys
                WHERE activates_at <= now() AND (retired_at IS NULL OR retired_at > now())
                ORDER BY activates_at DESC LIMIT 1
                """, logger: database.logger)
            for try await (kid, sealed, activatedAt) in rows.decode((String, ByteBuffer, Date).self) {
                do {
                    return ActiveKey(kid: kid, key: try unseal(Array(buffer: sealed)), activatedAt: activatedAt)
                } catch {
                    throw ConfigurationError(
                        variable: "AUTH_KEY_ENCRYPTION_KEY",
                        problem: "does not open the stored signing key \(kid); it must be the key the signing keys were sealed with")
                }
            }
            return try await create(activatesIn: 0, on: connection)
        }
    }

    /// Publishes a new key now; it signs after `publishAhead` seconds, when the current
    /// keys retire. Answers the new key id.
    func rotate(publishAhead: Int) async throws -> String {
        try await database.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))", logger: database.logger)
            let next = try await create(activatesIn: publishAhead, on: connection)
            try await connection.query(
                """
                UPDATE auth.signing_keys SET retired_at = now() + make_interval(secs => \(publishAhead))
                WHERE kid <> \(next.kid) AND (retired_at IS NULL OR retired_at > now() + make_interval(secs => \(publishAhead)))
                """, logger: database.logger)
            return next.kid
        }
    }

    func create(activatesIn seconds: Int, on connection: PostgresConnection) async throws -> ActiveKey {
        let key = ES256PrivateKey()
        let kid = "es256-" + Data((0..<9).map { _ in UInt8.random(in: 0...255) }).base64URLString
        guard let parameters = key.publicKey.parameters else { throw KeyError.noPublicParameters }
        let jwk = PublicJWK(kid: kid, x: parameters.x, y: parameters.y)
        let jwkJSON = String(decoding: try JSONEncoder().encode(jwk), as: UTF8.self)
        let sealed = try sealer.seal(Array(key.pemRepresentation.utf8))
        try await connection.query(
            """
            INSERT INTO auth.signing_keys (kid, private_key_sealed, public_jwk, activates_at)
            VALUES (\(kid), \(ByteBuffer(bytes: sealed)), \(jwkJSON)::jsonb, now() + make_interval(secs => \(seconds)))
            """, logger: database.logger)
        return ActiveKey(kid: kid, key: key, activatedAt: Date().addingTimeInterval(Double(seconds)))
    }

    func unseal(_ sealed: [UInt8]) throws -> ES256PrivateKey {
        try ES256PrivateKey(pem: String(decoding: try sealer.open(sealed), as: UTF8.self))
    }

    /// Every key a valid token may carry: upcoming, active, and retired ones whose tokens
    /// may not have expired yet.
    func jwksJSON() async throws -> String {
        let rows = try await database.query(
            """
            SELECT public_jwk::text FROM auth.signing_keys
            WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => \(retiredKeyLifetime)) ORDER BY activates_at DESC
            """, logger: database.logger)
        var keys: [String] = []
        for try await jwk in rows.decode(String.self) { keys.append(jwk) }
        return "{\"keys\":[\(keys.joined(separator: ","))]}"
    }

    enum KeyError: Error { case noPublicParameters }
}

/// An EC public key as RFC 7517 §4 / RFC 7518 §6.2 describe it.
struct PublicJWK: Codable {
    var kty = "EC"
    var crv = "P-256"
    var alg = "ES256"
    var use = "sig"
    var kid: String
    var x: String
    var y: String
}
