import Crypto
import Foundation

/// A link in a campaign email that works without a login: what it is for, whose it is
/// (tenant, campaign, subscriber) and an HMAC over all of it with the service's secret.
/// A changed byte anywhere answers 404, so no link can be turned to another subscriber,
/// tenant or purpose.
struct SignedLink: Equatable, Sendable {
    enum Purpose: UInt8, Sendable {
        case unsubscribe = 1
        case open = 2
        case click = 3
        case confirm = 4
        case preferences = 5
        /// A sender address's proof: the sender's id stands in the campaign's place.
        case verifySender = 6
    }

    var purpose: Purpose
    var tenant: UUID
    var campaign: UUID
    var subscriber: UUID

    /// 1 + 3 × 16 bytes, then 16 bytes of HMAC-SHA256, base64url without padding. `bound`
    /// is signed too but travels elsewhere (a click link's address, in its query), so it
    /// cannot be changed either.
    func token(secret: SymmetricKey, bound: String = "") -> String {
        var bytes = [purpose.rawValue]
        for id in [tenant, campaign, subscriber] { bytes += Self.bytes(id) }
        let mac = HMAC<SHA256>.authenticationCode(for: bytes + Array(bound.utf8), using: secret)
        return Self.base64url(bytes + Array(mac).prefix(16))
    }

    /// The link a token stands for, or nil when it is not one this secret signed (with
    /// this `bound` text).
    static func verify(_ token: String, secret: SymmetricKey, bound: String = "") -> SignedLink? {
        guard token.count <= 120, let bytes = unbase64url(token), bytes.count == 65 else { return nil }
        let body = Array(bytes.prefix(49))
        let mac = Array(HMAC<SHA256>.authenticationCode(for: body + Array(bound.utf8), using: secret)).prefix(16)
        // Constant time: a timing difference must not reveal how much of a guess was right.
        guard zip(mac, bytes.suffix(16)).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0, let purpose = Purpose(rawValue: body[0]) else { return nil }
        let ids = stride(from: 1, to: 49, by: 16).map { uuid(Array(body[$0..<($0 + 16)])) }
        return SignedLink(purpose: purpose, tenant: ids[0], campaign: ids[1], subscriber: ids[2])
    }

    static func bytes(_ id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    static func uuid(_ bytes: [UInt8]) -> UUID {
        UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
