import Crypto
import Foundation
import ServiceKit

/// An opaque token bound to a tenant (refresh tokens, invitations): base64url of the
/// tenant id (16 bytes) and a 256-bit secret. The tenant lets the lookup run under that
/// tenant's row-level security; the secret is what makes it unguessable. Only its
/// SHA-256 is stored.
///
/// A successor is derived, not drawn: HMAC(secret key, predecessor). So presenting a
/// just-spent token again inside the grace window yields the same successor without
/// the server storing any token in the clear.
struct TenantToken: Sendable, Equatable {
    let tenantID: UUID
    let secret: [UInt8]

    static func random(tenantID: UUID) -> TenantToken {
        var generator = SystemRandomNumberGenerator()
        return TenantToken(tenantID: tenantID, secret: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    init(tenantID: UUID, secret: [UInt8]) {
        self.tenantID = tenantID
        self.secret = secret
    }

    init?(_ text: String) {
        guard text.count <= 100, let data = Data(base64URL: text), data.count == 48 else { return nil }
        let bytes = [UInt8](data)
        self.tenantID = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        self.secret = Array(bytes[16...])
    }

    var text: String {
        let uuid = tenantID.uuid
        let tenantBytes = [
            uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7,
            uuid.8, uuid.9, uuid.10, uuid.11, uuid.12, uuid.13, uuid.14, uuid.15,
        ]
        return Data(tenantBytes + secret).base64URLString
    }

    var hash: [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

    func successor(key: [UInt8]) -> TenantToken {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: key))
        return TenantToken(tenantID: tenantID, secret: Array(mac))
    }
}
