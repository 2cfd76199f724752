import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests: the canonical request, the string to sign and
/// the derived key, as AWS documents them (the documented GET Object example is a test).
struct SigV4: Sendable {
    var accessKey: String
    var secretKey: String
    var region: String
    var service = "s3"

    /// The headers to add: `x-amz-date`, `x-amz-content-sha256` and `Authorization`.
    /// `headers` are the others to sign (Host at least), names in any case.
    func sign(
        method: String, path: String, query: [(String, String)], headers: [String: String], payloadHash: String, date: Date
    ) -> [String: String] {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var signed = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value.trimmingCharacters(in: .whitespaces)) })
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadHash
        let names = signed.keys.sorted()
        let canonical = [
            method, Self.encodePath(path), Self.canonicalQuery(query), names.map { "\($0):\(signed[$0] ?? "")\n" }.joined(),
            names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day)))
        return [
            "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash,
            "Authorization":
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)",
        ]
    }

    /// The query of a presigned URL (the signature in the query, the payload unsigned):
    /// whoever holds it may send `method` to `path` until `seconds` after `date`.
    func presign(method: String, path: String, host: String, seconds: Int, date: Date) -> [(String, String)] {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(accessKey)/\(scope)"), ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(seconds)), ("X-Amz-SignedHeaders", "host"),
        ]
        let canonical = [method, Self.encodePath(path), Self.canonicalQuery(query), "host:\(host)\n", "host", "UNSIGNED-PAYLOAD"].joined(
            separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day)))
        return query + [("X-Amz-Signature", signature)]
    }

    func signingKey(_ day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    static func payloadHash(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX (S3 encodes each path
    /// segment once and keeps the slashes).
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepSlash: out.append("/")
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func encodePath(_ path: String) -> String { encode(path, keepSlash: true) }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0), encode($0.1)) }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}
