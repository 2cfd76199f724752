import Crypto
import Foundation

/// Seals secrets at rest (signing keys, TOTP secrets) with AES-256-GCM under the
/// key-encryption key from the environment.
struct KeySealer: Sendable {
    let key: SymmetricKey

    func seal(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw SealError.unsealable }
        return Array(combined)
    }

    func open(_ sealed: [UInt8]) throws -> [UInt8] {
        Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: key))
    }

    enum SealError: Error { case unsealable }
}
