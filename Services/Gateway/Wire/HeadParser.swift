import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A request head: its bytes and fields, and the request line taken apart.
struct RequestHead {
    let message: MessageHead
    let method: HTTPMethod
    /// The request target as sent (origin form: path and query).
    let uri: String

    var path: Substring { uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...] }
    var version: HTTPVersion { message.version }
}

/// A response head from an upstream.
struct ResponseHead {
    let message: MessageHead
    let status: Int
}

/// Why a head was refused. Requests get the matching problem answer; an upstream's
/// malformed answer is a 502.
enum HeadError: Error, Equatable {
    case malformed(String)
    /// RFC 9112 §6.1: a transfer coding the gateway does not implement (501).
    case unsupported(String)
    /// Over `HeadParser.maxHeadBytes` (431).
    case tooLarge
}

/// A strict HTTP/1.1 head parser (RFC 9112). Whatever could be read two ways by two
/// servers is refused rather than guessed: folded lines, bare LF or CR, whitespace before
/// a colon, control characters, Content-Length and Transfer-Encoding together, differing
/// or non-numeric lengths, and transfer codings other than `chunked` in requests. The
/// gateway forwards bytes, so its reading of the framing must be the only one.
enum HeadParser {
    static let maxHeadBytes = 64 * 1024
    private static let cr: UInt8 = 13
    private static let lf: UInt8 = 10
    private static let space: UInt8 = 32
    private static let tab: UInt8 = 9

    /// The request head at the start of `buffer` and how many bytes it took, or nil until it is whole.
    static func request(_ buffer: ByteBuffer) throws(HeadError) -> (RequestHead, Int)? {
        guard let (message, consumed, start) = try head(buffer, isRequest: true, bodyless: false) else { return nil }
        let (method, uri) = buffer.withUnsafeReadableBytes { raw in
            let line = UnsafeRawBufferPointer(rebasing: raw[(start + message.startLine.lowerBound)..<(start + message.startLine.upperBound)])
            // Checked by `head`: "METHOD SP target SP HTTP/1.x".
            let methodEnd = line.firstIndex(of: space) ?? 0
            let targetEnd = line.count - 9
            return (
                parseMethod(UnsafeRawBufferPointer(rebasing: line[0..<methodEnd])),
                String(decoding: UnsafeRawBufferPointer(rebasing: line[(methodEnd + 1)..<targetEnd]), as: UTF8.self)
            )
        }
        return (RequestHead(message: message, method: method, uri: uri), consumed)
    }

    /// The response head at the start of `buffer`, for a request that was a HEAD or not.
    static func response(_ buffer: ByteBuffer, toHEAD: Bool) throws(HeadError) -> (ResponseHead, Int)? {
        guard let (message, consumed, start) = try head(buffer, isRequest: false, bodyless: toHEAD) else { return nil }
        let status = buffer.withUnsafeReadableBytes { raw in
            (9..<12).reduce(0) { $0 * 10 + Int(raw[start + message.startLine.lowerBound + $1] - 48) }
        }
        return (ResponseHead(message: message, status: status), consumed)
    }

    /// Whether the bytes from `offset` on hold the CRLF CRLF that ends a head.
    static func containsHeadEnd(_ buffer: ByteBuffer, from offset: Int) -> Bool {
        buffer.withUnsafeReadableBytes { raw in headEnd(raw, from: offset, limit: raw.count) != nil }
    }

    /// Just past the first CRLF CRLF in `raw[from..<limit]`, found LF by LF with `memchr`.
    private static func headEnd(_ raw: UnsafeRawBufferPointer, from: Int, limit: Int) -> Int? {
        var cursor = from
        while let found = index(of: lf, in: raw, from: cursor, to: limit) {
            if found >= from + 3, raw[found - 1] == cr, raw[found - 2] == lf, raw[found - 3] == cr { return found + 1 }
            cursor = found + 1
        }
        return nil
    }

    private static func index(of byte: UInt8, in raw: UnsafeRawBufferPointer, from: Int, to limit: Int) -> Int? {
        guard from < limit, let base = raw.baseAddress, let found = memchr(base + from, Int32(byte), limit - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// No control characters but tab, no DEL: written as one pass without early exit,
    /// which the compiler turns into vector code.
    private static func allValueBytes(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var bad: UInt8 = 0
        for index in range {
            let byte = raw[index]
            bad |= (byte < 0x20 && byte != tab ? 1 : 0) | (byte == 0x7F ? 1 : 0)
        }
        return bad == 0
    }

    private static func parseMethod(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        switch bytes.count {
        case 3:
            if bytes.elementsEqual("GET".utf8) { return .GET }
            if bytes.elementsEqual("PUT".utf8) { return .PUT }
        case 4:
            if bytes.elementsEqual("POST".utf8) { return .POST }
            if bytes.elementsEqual("HEAD".utf8) { return .HEAD }
        case 5:
            if bytes.elementsEqual("PATCH".utf8) { return .PATCH }
        case 6:
            if bytes.elementsEqual("DELETE".utf8) { return .DELETE }
        case 7:
            if bytes.elementsEqual("OPTIONS".utf8) { return .OPTIONS }
        default: break
        }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    /// Token characters (RFC 9110 §5.6.2), for methods and field names.
    private static let isToken: [Bool] = (0..<256).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }

    /// Field value bytes (and chunk extensions, trailers, reason phrases): visible ASCII,
    /// space, tab and obs-text; no controls, no DEL.
    static func isValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    private static func head(_ buffer: ByteBuffer, isRequest: Bool, bodyless: Bool) throws(HeadError) -> (MessageHead, Int, Int)? {
        try buffer.withUnsafeReadableBytes { raw throws(HeadError) in try scan(raw, buffer: buffer, isRequest: isRequest, bodyless: bodyless) }
    }

    private static func scan(
        _ raw: UnsafeRawBufferPointer, buffer: ByteBuffer, isRequest: Bool, bodyless: Bool
    ) throws(HeadError) -> (MessageHead, Int, Int)? {
        var start = 0
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        if isRequest {
            while start + 1 < raw.count, raw[start] == cr, raw[start + 1] == lf, start < 8 { start += 2 }
        }
        // The head ends with CRLF CRLF.
        let limit = min(raw.count, start + maxHeadBytes)
        let end = headEnd(raw, from: start, limit: limit) ?? -1
        if end < 0 {
            if raw.count - start >= maxHeadBytes { throw .tooLarge }
            return nil
        }

        // The start line.
        var position = start
        while position < end, raw[position] != cr { position += 1 }
        guard raw[position + 1] == lf else { throw .malformed("A line ends in a bare CR.") }
        let lineEnd = position
        let version: HTTPVersion
        if isRequest {
            var cursor = start
            while cursor < lineEnd, isToken[Int(raw[cursor])] { cursor += 1 }
            guard cursor > start, cursor < lineEnd, raw[cursor] == space else { throw .malformed("The request line is malformed.") }
            cursor += 1
            let targetStart = cursor
            while cursor < lineEnd, raw[cursor] > 0x20, raw[cursor] < 0x7F { cursor += 1 }
            guard cursor > targetStart, cursor == lineEnd - 9, raw[cursor] == space else { throw .malformed("The request line is malformed.") }
            guard let parsed = httpVersion(raw, at: cursor + 1) else { throw .malformed("Only HTTP/1.1 and HTTP/1.0 are spoken here.") }
            version = parsed
        } else {
            guard lineEnd - start >= 12, let parsed = httpVersion(raw, at: start), raw[start + 8] == space,
                (9..<12).allSatisfy({ raw[start + $0] >= 48 && raw[start + $0] <= 57 }),
                lineEnd - start == 12 || raw[start + 12] == space,
                (start + 12..<lineEnd).allSatisfy({ isValueByte(raw[$0]) })
            else { throw .malformed("The status line is malformed.") }
            version = parsed
        }

        // Field lines.
        var fields: [MessageHead.Field] = []
        var lengths: [Int] = []
        var transferCodings = 0
        var chunked = false
        var close = false
        var keepAliveToken = false
        var options: [FieldName] = []
        position = lineEnd + 2
        while true {
            if raw[position] == cr {
                guard raw[position + 1] == lf else { throw .malformed("A line ends in a bare CR.") }
                position += 2
                break
            }
            let nameStart = position
            while isToken[Int(raw[position])] { position += 1 }
            guard position > nameStart else {
                throw .malformed(
                    raw[position] == space || raw[position] == tab ? "Folded field lines are not accepted." : "A field name is malformed.")
            }
            guard raw[position] == UInt8(ascii: ":") else { throw .malformed("A field name is malformed.") }
            let name = nameStart..<position
            position += 1
            let afterColon = position
            while raw[position] == space || raw[position] == tab { position += 1 }
            var valueStart = position
            // The line's CR (there is one before `end`), then every byte before it checked.
            position = index(of: cr, in: raw, from: position, to: end) ?? end
            guard position < end, raw[position + 1] == lf, allValueBytes(raw, valueStart..<position) else {
                throw .malformed("A field value holds a control character.")
            }
            var valueEnd = position
            while valueEnd > valueStart, raw[valueEnd - 1] == space || raw[valueEnd - 1] == tab { valueEnd -= 1 }
            if valueEnd == valueStart { (valueStart, valueEnd) = (afterColon, afterColon) }
            position += 2
            fields.append(.init(name: (name.lowerBound - start)..<(name.upperBound - start), value: (valueStart - start)..<(valueEnd - start)))

            let value = UnsafeRawBufferPointer(rebasing: raw[valueStart..<valueEnd])
            if matches(raw, name, FieldName.contentLength) {
                guard value.count > 0, value.count <= 15, value.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    throw .malformed("Content-Length must be a number.")
                }
                lengths.append(value.reduce(0) { $0 * 10 + Int($1 - 48) })
            } else if matches(raw, name, FieldName.transferEncoding) {
                transferCodings += 1
                chunked = equalsIgnoringCase(value, "chunked")
            } else if matches(raw, name, FieldName.connection) {
                for token in value.split(separator: UInt8(ascii: ",")) {
                    var token = token[...]
                    while let first = token.first, first == space || first == tab { token = token.dropFirst() }
                    while let last = token.last, last == space || last == tab { token = token.dropLast() }
                    if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: token), "close") {
                        close = true
                    } else if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: token), "keep-alive") {
                        keepAliveToken = true
                    } else if !token.isEmpty {
                        options.append(FieldName(lowercased: token))
                    }
                }
            }
        }

        guard lengths.allSatisfy({ $0 == lengths[0] }) else { throw .malformed("Content-Length fields disagree.") }
        // A field `Connection` names is dropped on the way up; dropping one of these would
        // change where the request ends or who sent it, so such a request is refused.
        if isRequest, let kept = options.first(where: { name in FieldName.keptThroughConnection.contains(name) }) {
            throw .malformed("Connection may not name \(String(decoding: kept.lower, as: UTF8.self)).")
        }
        let framing: MessageHead.Framing
        if isRequest {
            if transferCodings > 0 {
                guard version == .http1_1 else { throw .malformed("Transfer-Encoding is not allowed in HTTP/1.0.") }
                guard lengths.isEmpty else { throw .malformed("Content-Length and Transfer-Encoding together are not accepted.") }
                guard transferCodings == 1, chunked else { throw .unsupported("Only the chunked transfer coding is accepted.") }
                framing = .chunked
            } else if let length = lengths.first, length > 0 {
                framing = .length(length)
            } else {
                framing = .none
            }
        } else {
            let status = (9..<12).reduce(0) { $0 * 10 + Int(raw[start + $1] - 48) }
            if bodyless || status < 200 || status == 204 || status == 304 {
                framing = .none
            } else if transferCodings > 0 {
                framing = transferCodings == 1 && chunked ? .chunked : .untilClose
            } else if let length = lengths.first {
                framing = length > 0 ? .length(length) : .none
            } else {
                framing = .untilClose
            }
        }
        // An answer whose `Connection` names its own framing is read by its framing, but the
        // connection it came on is not trusted with another request.
        let framingInDoubt = options.contains(.contentLength) || options.contains(.transferEncoding)
        let keepAlive = framing != .untilClose && !close && !framingInDoubt && (version == .http1_1 || keepAliveToken)
        let bytes = buffer.getSlice(at: buffer.readerIndex + start, length: position - start) ?? ByteBuffer()
        let message = MessageHead(
            bytes: bytes, startLine: 0..<(lineEnd - start), fields: fields, version: version, framing: framing, keepAlive: keepAlive,
            connectionOptions: options)
        return (message, position, start)
    }

    private static func httpVersion(_ raw: UnsafeRawBufferPointer, at index: Int) -> HTTPVersion? {
        guard index + 8 <= raw.count, UnsafeRawBufferPointer(rebasing: raw[index..<(index + 7)]).elementsEqual("HTTP/1.".utf8) else { return nil }
        switch raw[index + 7] {
        case UInt8(ascii: "1"): return .http1_1
        case UInt8(ascii: "0"): return .http1_0
        default: return nil
        }
    }

    private static func matches(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ name: FieldName) -> Bool {
        guard range.count == name.lower.count else { return false }
        var index = range.lowerBound
        for byte in name.lower {
            let given = raw[index]
            if given != byte && (given | 0x20) != byte { return false }
            index += 1
        }
        return true
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if folded != lower.utf8Start[index] { return false }
        }
        return true
    }
}
