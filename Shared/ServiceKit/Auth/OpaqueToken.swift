import Crypto
import Foundation
import NIOCore

/// A random secret handed out once (email links, MFA challenges, OAuth state and codes,
/// API-client secrets, stream tickets); only its SHA-256 is stored, so a database leak reveals none.
public struct OpaqueToken: Sendable {
    public let text: String

    public init(text: String) {
        self.text = text
    }

    /// `prefix` makes a secret recognisable to secret scanners (e.g. `acs_` for API-client secrets).
    public static func random(bytes: Int = 32, prefix: String = "") -> OpaqueToken {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return OpaqueToken(text: prefix + Data(secret).base64URLString)
    }

    public var hash: ByteBuffer { Self.hash(text) }

    public static func hash(_ text: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(SHA256.hash(data: Data(text.utf8))))
    }
}
