import Crypto
import Foundation

/// Seals secrets at rest (auth's signing keys and TOTP secrets, campaigns' DKIM keys) with
/// AES-256-GCM under the service's key-encryption key from the environment.
public struct KeySealer: Sendable {
    public let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw SealError.unsealable }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: key))
    }

    public enum SealError: Error { case unsealable }
}
