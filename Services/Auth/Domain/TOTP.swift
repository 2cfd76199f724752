import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the
/// parameters every authenticator app supports.
struct TOTP: Sendable {
    static let step: TimeInterval = 30
    static let digits = 6
    let secret: [UInt8]

    static func randomSecret() -> TOTP {
        var generator = SystemRandomNumberGenerator()
        return TOTP(secret: (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func timeStep(at date: Date) -> Int64 { Int64(date.timeIntervalSince1970 / step) }

    /// RFC 4226 §5.3: HOTP of the counter, dynamically truncated.
    func code(forStep counter: Int64) -> String {
        var bigEndian = UInt64(bitPattern: counter).bigEndian
        let message = withUnsafeBytes(of: &bigEndian) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: Self.digits - text.count) + text
    }

    func code(at date: Date) -> String { code(forStep: Self.timeStep(at: date)) }

    /// The time step `code` matches, allowing one step of clock drift either way
    /// (RFC 6238 §5.2), or nil.
    func matchingStep(_ code: String, at date: Date = Date()) -> Int64? {
        let trimmed = code.filter { !$0.isWhitespace }
        guard trimmed.count == Self.digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let current = Self.timeStep(at: date)
        return [current, current - 1, current + 1].first { self.code(forStep: $0) == trimmed }
    }

    /// The `otpauth://` URI authenticator apps read from a QR code (Key Uri Format).
    func provisioningURI(account: String, issuer: String) -> String {
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        components.path = "/\(issuer):\(account)"
        components.queryItems = [
            .init(name: "secret", value: Base32.encode(secret)), .init(name: "issuer", value: issuer),
            .init(name: "algorithm", value: "SHA1"), .init(name: "digits", value: "6"), .init(name: "period", value: "30"),
        ]
        return components.string ?? ""
    }
}

/// RFC 4648 base32 without padding, as authenticator apps expect secrets.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    static func encode(_ bytes: [UInt8]) -> String {
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
