import Crypto
import Foundation
import _CryptoExtras

/// DKIM signatures (RFC 6376) for outgoing mail, relaxed/relaxed, with rsa-sha256 or
/// ed25519-sha256 (RFC 8463). The signer adds one `DKIM-Signature` header to a rendered
/// message; the receiver finds the public key at `<selector>._domainkey.<domain>`.
public struct DKIMSigner: Sendable {
    public enum Key: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)

        /// A new key: RSA of 2048 bits, or Ed25519.
        public static func generate(_ algorithm: Algorithm) throws -> Key {
            switch algorithm {
            case .rsaSHA256: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
            case .ed25519SHA256: .ed25519(Curve25519.Signing.PrivateKey())
            }
        }

        /// The key as stored: PEM for RSA, the raw 32 bytes in base64 for Ed25519.
        public var stored: String {
            switch self {
            case .rsa(let key): key.pemRepresentation
            case .ed25519(let key): key.rawRepresentation.base64EncodedString()
            }
        }

        public init(stored: String, algorithm: Algorithm) throws {
            switch algorithm {
            case .rsaSHA256: self = .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: stored))
            case .ed25519SHA256:
                guard let raw = Data(base64Encoded: stored) else { throw CryptoKitError.incorrectKeySize }
                self = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
            }
        }

        /// The TXT record to publish at `<selector>._domainkey.<domain>`.
        public var dnsRecord: String {
            switch self {
            case .rsa(let key): "v=DKIM1; k=rsa; p=\(key.publicKey.derRepresentation.base64EncodedString())"
            case .ed25519(let key): "v=DKIM1; k=ed25519; p=\(key.publicKey.rawRepresentation.base64EncodedString())"
            }
        }
    }

    public enum Algorithm: String, Codable, Sendable, CaseIterable {
        case rsaSHA256 = "rsa-sha256"
        case ed25519SHA256 = "ed25519-sha256"
    }

    public let domain: String
    public let selector: String
    public let key: Key

    public init(domain: String, selector: String, key: Key) {
        self.domain = domain
        self.selector = selector
        self.key = key
    }

    var algorithm: Algorithm {
        switch key {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// The headers signed when present (RFC 8058 asks for both List-Unsubscribe headers).
    static let signedHeaders = [
        "from", "to", "subject", "date", "message-id", "reply-to", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post",
        "list-id",
    ]

    /// The message with its DKIM-Signature header first.
    public func sign(_ message: String, at time: Date = Date()) throws -> String {
        let split = message.range(of: "\r\n\r\n")
        let headerText = split.map { String(message[..<$0.lowerBound]) } ?? message
        let body = split.map { String(message[$0.upperBound...]) } ?? ""
        let headers = Self.headers(headerText)
        let names = Self.signedHeaders.filter { name in headers.contains { $0.name.lowercased() == name } }
        let bodyHash = Data(SHA256.hash(data: Data(Self.relaxedBody(body).utf8))).base64EncodedString()
        let unsigned =
            "v=1; a=\(algorithm.rawValue); c=relaxed/relaxed; d=\(domain); s=\(selector); t=\(Int(time.timeIntervalSince1970)); "
            + "h=\(names.joined(separator: ":")); bh=\(bodyHash); b="
        // Each named header once, the last instance first (RFC 6376 5.4.2), then this one.
        var data = ""
        for name in names {
            if let header = headers.last(where: { $0.name.lowercased() == name }) { data += Self.relaxedHeader(header.name, header.value) + "\r\n" }
        }
        data += Self.relaxedHeader("DKIM-Signature", unsigned)
        let signature: Data
        switch key {
        case .rsa(let key):
            signature = try key.signature(for: SHA256.hash(data: Data(data.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
        case .ed25519(let key):
            signature = try key.signature(for: Data(SHA256.hash(data: Data(data.utf8))))
        }
        return "DKIM-Signature: \(unsigned)\(Self.folded(signature.base64EncodedString()))\r\n" + message
    }

    /// A long base64 value broken over continuation lines (whitespace inside b= is ignored).
    static func folded(_ value: String) -> String {
        var out = ""
        var index = value.startIndex
        while index < value.endIndex {
            let end = value.index(index, offsetBy: 72, limitedBy: value.endIndex) ?? value.endIndex
            out += (out.isEmpty ? "" : "\r\n\t") + value[index..<end]
            index = end
        }
        return out
    }

    struct Header {
        var name: String
        var value: String
    }

    /// Header fields with their continuation lines joined.
    static func headers(_ text: String) -> [Header] {
        var headers: [Header] = []
        for line in text.components(separatedBy: "\r\n") {
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\r\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append(Header(name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
        }
        return headers
    }

    /// RFC 6376 3.4.2: the name lower-cased, the value unfolded, runs of whitespace one
    /// space, none at either end.
    static func relaxedHeader(_ name: String, _ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r\n", with: "")
        let collapsed = unfolded.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        return name.lowercased().trimmingCharacters(in: .whitespaces) + ":" + collapsed
    }

    /// RFC 6376 3.4.4: whitespace runs one space, none at a line's end, no empty lines at
    /// the end; a body that is not empty ends with CRLF.
    static func relaxedBody(_ body: String) -> String {
        var lines = body.components(separatedBy: "\r\n").map { line in
            var reduced = ""
            var space = false
            for character in line {
                if character == " " || character == "\t" {
                    space = true
                } else {
                    if space { reduced.append(" ") }
                    space = false
                    reduced.append(character)
                }
            }
            return reduced
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }
}
