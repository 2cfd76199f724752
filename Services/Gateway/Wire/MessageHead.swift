import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An HTTP/1.1 message head as it arrived: its bytes, and where its start line and each
/// field line lie in them. Nothing is copied or decoded until a field is asked for, and
/// the fields the gateway does not touch are forwarded as the very bytes it received.
struct MessageHead {
    /// A field line's name and value (without surrounding whitespace), as offsets into `bytes`.
    struct Field {
        let name: Range<Int>
        let value: Range<Int>
    }

    /// How the body that follows the head is delimited (RFC 9112 §6.3).
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// A response whose end is the connection's end.
        case untilClose
    }

    /// The head, from the start line to the empty line that ends it, both included.
    let bytes: ByteBuffer
    /// The start line without its CRLF.
    let startLine: Range<Int>
    let fields: [Field]
    let version: HTTPVersion
    let framing: Framing
    /// Whether the sender allows the connection to be reused after this message.
    let keepAlive: Bool
    /// Other field names the `Connection` field lists: hop-by-hop too (RFC 9110 §7.6.1).
    let connectionOptions: [FieldName]

    /// The first value of the field `name` (lower-case), decoded as UTF-8.
    func first(_ name: FieldName) -> String? {
        guard let field = fields.first(where: { name.matches(bytes, $0.name) }) else { return nil }
        return String(decoding: bytes.readableBytesView[field.value], as: UTF8.self)
    }

    /// The token of an `Authorization: Bearer …` field.
    var bearer: String? {
        guard let field = fields.first(where: { FieldName.authorization.matches(bytes, $0.name) }), field.value.count > 7 else { return nil }
        let scheme = bytes.readableBytesView[field.value.prefix(7)]
        guard scheme.lazy.map({ $0 | 0x20 }).elementsEqual("bearer ".utf8) else { return nil }
        return String(decoding: bytes.readableBytesView[field.value.dropFirst(7)], as: UTF8.self)
    }

    /// Whether the `Authorization` field is `Bearer ` and exactly `token`.
    func hasBearer(_ token: String) -> Bool {
        guard let field = fields.first(where: { FieldName.authorization.matches(bytes, $0.name) }), field.value.count == token.utf8.count + 7 else {
            return false
        }
        var token = token
        return token.withUTF8 { expected in
            bytes.withUnsafeReadableBytes { raw in
                guard let given = raw.baseAddress, let expected = UnsafeRawPointer(expected.baseAddress) else { return false }
                return memcmp(given + field.value.lowerBound + 7, expected, field.value.count - 7) == 0
                    && raw[field.value.lowerBound..<(field.value.lowerBound + 7)].lazy.map { $0 | 0x20 }.elementsEqual("bearer ".utf8)
            }
        }
    }

    func contains(_ name: FieldName) -> Bool {
        fields.contains { name.matches(bytes, $0.name) }
    }

    /// Every value of the field `name`, in order.
    func values(_ name: FieldName) -> [String] {
        fields.filter { name.matches(bytes, $0.name) }.map { String(decoding: bytes.readableBytesView[$0.value], as: UTF8.self) }
    }

    /// Writes the field line as received (`name: value`) followed by CRLF. An empty
    /// value's range starts right after the colon, so the line is always one slice.
    func writeField(_ field: Field, to out: inout ByteBuffer) {
        bytes.withUnsafeReadableBytes { raw in
            _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[field.name.lowerBound..<field.value.upperBound]))
        }
        out.writeStaticString("\r\n")
    }
}

/// A field name to look for, in lower case; header names match case-insensitively.
struct FieldName: Hashable, Sendable {
    let lower: [UInt8]

    init(_ name: StaticString) {
        lower = Array(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    init(lowercased bytes: some Collection<UInt8>) {
        lower = bytes.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0 }
    }

    /// Letters compare without case; names are tokens, so no other byte folds onto a letter.
    func matches(_ buffer: ByteBuffer, _ range: Range<Int>) -> Bool {
        guard range.count == lower.count else { return false }
        return buffer.withUnsafeReadableBytes { raw in
            var index = range.lowerBound
            for byte in lower {
                let given = raw[index]
                if given != byte && (given | 0x20) != byte { return false }
                index += 1
            }
            return true
        }
    }

    static let authorization = FieldName("authorization")
    static let connection = FieldName("connection")
    static let contentLength = FieldName("content-length")
    static let transferEncoding = FieldName("transfer-encoding")
    static let host = FieldName("host")
    static let origin = FieldName("origin")
    static let expect = FieldName("expect")
    static let requestID = FieldName("x-request-id")
    static let traceparent = FieldName("traceparent")
    static let forwardedFor = FieldName("x-forwarded-for")
    static let accessControlRequestMethod = FieldName("access-control-request-method")
    static let accessControlRequestHeaders = FieldName("access-control-request-headers")

    /// Fields a `Connection` option may not remove: the framing (the upstream would read
    /// the body as another request), the target, the credentials and the trace.
    static let keptThroughConnection: [FieldName] = [contentLength, transferEncoding, host, authorization, traceparent]
}
