import Foundation

/// A `multipart/form-data` body (RFC 7578), read whole: its parts by field name.
struct MultipartForm: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var contentType: String?
        var bytes: [UInt8]

        var text: String? { String(bytes: bytes, encoding: .utf8) }
    }

    enum Refusal: Error, Equatable {
        case notMultipart
        case malformed(String)
    }

    static let maxParts = 16

    var parts: [Part]

    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary of a `multipart/form-data; boundary=…` content type.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    static func parse(_ body: [UInt8], contentType: String) throws(Refusal) -> MultipartForm {
        guard let boundary = boundary(contentType: contentType) else { throw .notMultipart }
        let delimiter = Array("--\(boundary)".utf8)
        let separator = [UInt8(ascii: "\r"), UInt8(ascii: "\n")] + delimiter
        guard var cursor = find(delimiter, in: body, from: 0) else { throw .malformed("no boundary in the body") }
        cursor += delimiter.count
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body.count >= cursor + 2, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") { break }
            guard body.count >= cursor + 2, body[cursor] == 13, body[cursor + 1] == 10 else {
                throw .malformed("a boundary is not followed by a line end")
            }
            cursor += 2
            guard let headEnd = find([13, 10, 13, 10], in: body, from: cursor) else { throw .malformed("a part's headers do not end") }
            let head = String(decoding: body[cursor..<headEnd], as: UTF8.self)
            let start = headEnd + 4
            guard let end = find(separator, in: body, from: start) else { throw .malformed("a part does not end (the body is cut short)") }
            guard var part = headers(head) else { throw .malformed("a part has no form-data name") }
            part.bytes = Array(body[start..<end])
            parts.append(part)
            guard parts.count <= maxParts else { throw .malformed("more than \(maxParts) parts") }
            cursor = end + separator.count
        }
        return MultipartForm(parts: parts)
    }

    /// `Content-Disposition: form-data; name="…"; filename="…"` and `Content-Type`.
    static func headers(_ head: String) -> Part? {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in head.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if field == "content-type" { contentType = value }
            guard field == "content-disposition" else { continue }
            for parameter in value.split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                let unquoted =
                    pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
                switch pair[0].lowercased() {
                case "name": name = unquoted
                case "filename": filename = unquoted
                default: break
                }
            }
        }
        guard let name else { return nil }
        return Part(name: name, filename: filename, contentType: contentType, bytes: [])
    }

    /// The first occurrence of `needle` at or after `from`: scans for its first byte with
    /// the standard library's search, then compares the rest.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var index = from
        let last = haystack.count - needle.count
        while index <= last {
            guard let candidate = haystack[index...last].firstIndex(of: first) else { return nil }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            index = candidate + 1
        }
        return nil
    }
}
