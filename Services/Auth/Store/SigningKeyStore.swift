import Crypto
import Foundation
import JWTKit
import Persistence
import PostgresNIO
import ServiceKit

/// Signing keys in the auth schema, private halves sealed with AES-GCM.
struct SigningKeyStore: Sendable {
    let database: Database
    let keyEncryptionKey: SymmetricKey

    struct ActiveKey: Sendable {
        var kid: String
        var key: ES256PrivateKey
    }

    /// The newest unretired key, creating the first one if none exists. An advisory lock
    /// keeps replicas starting together from creating two.
    func activeKey() async throws -> ActiveKey {
        try await database.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))", logger: database.logger)
            let rows = try await connection.query(
                "SELECT kid, private_key_sealed FROM auth.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
                logger: database.logger)
            for try await (kid, sealed) in rows.decode((String, ByteBuffer).self) {
                do {
                    return ActiveKey(kid: kid, key: try unseal(Array(buffer: sealed)))
                } catch {
                    throw ConfigurationError(
                        variable: "AUTH_KEY_ENCRYPTION_KEY",
                        problem: "does not open the stored signing key \(kid); it must be the key the signing keys were sealed with")
                }
            }
            return try await create(on: connection)
        }
    }

    func create(on connection: PostgresConnection) async throws -> ActiveKey {
        let key = ES256PrivateKey()
        let kid = "es256-" + Data((0..<9).map { _ in UInt8.random(in: 0...255) }).base64URLString
        guard let parameters = key.publicKey.parameters else { throw KeyError.noPublicParameters }
        let jwk = PublicJWK(kid: kid, x: parameters.x, y: parameters.y)
        let jwkJSON = String(decoding: try JSONEncoder().encode(jwk), as: UTF8.self)
        let sealed = try AES.GCM.seal(Data(key.pemRepresentation.utf8), using: keyEncryptionKey).combined ?? Data()
        try await connection.query(
            "INSERT INTO auth.signing_keys (kid, private_key_sealed, public_jwk) VALUES (\(kid), \(ByteBuffer(bytes: sealed)), \(jwkJSON)::jsonb)",
            logger: database.logger)
        return ActiveKey(kid: kid, key: key)
    }

    func unseal(_ sealed: [UInt8]) throws -> ES256PrivateKey {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let pem = try AES.GCM.open(box, using: keyEncryptionKey)
        return try ES256PrivateKey(pem: String(decoding: pem, as: UTF8.self))
    }

    /// Every key a valid token may have been signed with: unretired keys, and retired ones
    /// until the longest access-token lifetime has passed.
    func jwksJSON() async throws -> String {
        let rows = try await database.client.query(
            """
            SELECT public_jwk::text FROM auth.signing_keys
            WHERE retired_at IS NULL OR retired_at > now() - interval '1 hour' ORDER BY created_at DESC
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
