import Crypto
import Foundation

/// Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`
/// keyed with the bytes of the `whsec_` secret; several signatures separated by spaces.
enum WebhookSignature {
    /// A new secret: 32 random bytes, base64, with the `whsec_` prefix.
    static func newSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    static func sign(id: String, timestamp: Int, body: String, secret: String) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The header value for every secret that signs now (the new one first during a rotation).
    static func header(id: String, timestamp: Int, body: String, secrets: [String]) -> String {
        secrets.compactMap { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }
}

/// When a failed webhook is tried again: about three days in all, each delay with ±20% jitter
/// so endpoints recovering from an outage are not hit by every tenant at once.
enum WebhookSchedule {
    static let delays: [TimeInterval] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    /// An endpoint failing for this long without a success is disabled.
    static let disableAfter: TimeInterval = 5 * 86400

    /// The delay after failed attempt `attempt` (1-based); nil when attempts are exhausted.
    static func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: -0.2...0.2)) -> TimeInterval? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        return delays[attempt - 1] * (1 + jitter)
    }
}
