import Crypto
import Foundation

/// A browser's push subscription as the Push API gives it.
struct PushSubscriptionKeys: Sendable, Equatable {
    /// The browser's P-256 public key, uncompressed (65 bytes).
    var p256dh: Data
    /// The 16-byte authentication secret.
    var auth: Data

    init?(p256dh: String, auth: String) {
        guard let key = Data(base64URL: p256dh), key.count == 65, (try? P256.KeyAgreement.PublicKey(x963Representation: key)) != nil,
            let secret = Data(base64URL: auth), secret.count == 16
        else { return nil }
        self.p256dh = key
        self.auth = secret
    }
}

/// Web Push message encryption (RFC 8291, `aes128gcm` content coding of RFC 8188) and
/// VAPID authorisation (RFC 8292), with swift-crypto.
enum WebPush {
    /// The request body for one subscription: a single record of the `aes128gcm` coding.
    static func encrypt(_ plaintext: Data, for keys: PushSubscriptionKeys, salt: Data = randomBytes(16)) throws -> Data {
        let server = P256.KeyAgreement.PrivateKey()
        let browser = try P256.KeyAgreement.PublicKey(x963Representation: keys.p256dh)
        let shared = try server.sharedSecretFromKeyAgreement(with: browser)
        let serverPublic = server.publicKey.x963Representation
        // RFC 8291 §3.4: IKM from the ECDH secret and the auth secret, bound to both keys.
        let keyInfo = Data("WebPush: info\u{0}".utf8) + keys.p256dh + serverPublic
        let prkKey = shared.withUnsafeBytes { HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: Data($0)), salt: keys.auth) }
        let ikm = HKDF<SHA256>.expand(pseudoRandomKey: prkKey, info: keyInfo, outputByteCount: 32)
        let prk = ikm.withUnsafeBytes { HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: Data($0)), salt: salt) }
        let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm\u{0}".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce\u{0}".utf8), outputByteCount: 12)
        // One record: the content, then the last-record delimiter 0x02 (no further padding).
        let sealed = try AES.GCM.seal(plaintext + Data([2]), using: cek, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))
        var body = salt
        let recordSize = UInt32(4096)
        body += withUnsafeBytes(of: recordSize.bigEndian) { Data($0) }
        body.append(UInt8(serverPublic.count))
        body += serverPublic
        body += sealed.ciphertext + sealed.tag
        return body
    }

    /// `Authorization: vapid t=<JWT>, k=<public key>` for a push service at `endpoint`.
    static func authorization(endpoint: URL, key: P256.Signing.PrivateKey, subject: String, now: Date = Date()) throws -> String {
        guard let scheme = endpoint.scheme, let host = endpoint.host else { throw WebPushError.invalidEndpoint }
        let audience = "\(scheme)://\(host)" + (endpoint.port.map { ":\($0)" } ?? "")
        let header = Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8).base64URL
        let claims = try JSONSerialization.data(
            withJSONObject: ["aud": audience, "exp": Int(now.timeIntervalSince1970) + 12 * 3600, "sub": subject], options: [.sortedKeys])
        let signingInput = header + "." + claims.base64URL
        let signature = try key.signature(for: Data(signingInput.utf8)).rawRepresentation
        return "vapid t=\(signingInput).\(signature.base64URL), k=\(key.publicKey.x963Representation.base64URL)"
    }

    static func randomBytes(_ count: Int) -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
    }
}

enum WebPushError: Error { case invalidEndpoint }

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }

    init?(base64URL text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        self.init(base64Encoded: standard)
    }
}
