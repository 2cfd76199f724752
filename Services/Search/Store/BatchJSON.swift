import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The JSON `search.apply_documents` reads: documents grouped by tenant,
/// `{"<tenant>": [{"doc_type": …, …}, …], …}`. Written by hand because it is on the
/// indexer's hot path: at 5,000 updates a second JSONEncoder took nearly a quarter of the
/// service's CPU (make bench-search under perf), for a shape that never changes.
enum BatchJSON {
    static func encode(_ documents: [IndexedDocument]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(documents.reduce(64) { $0 + 256 + $1.title.utf8.count + $1.body.utf8.count })
        out.append(UInt8(ascii: "{"))
        for (tenantIndex, (tenant, group)) in Dictionary(grouping: documents, by: \.tenant).enumerated() {
            if tenantIndex > 0 { out.append(UInt8(ascii: ",")) }
            string(tenant.uuidString.lowercased(), into: &out)
            out.append(contentsOf: ":[".utf8)
            for (position, member) in group.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                document(member, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func document(_ document: IndexedDocument, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"doc_type":"#.utf8)
        string(document.type, into: &out)
        out.append(contentsOf: #","doc_id":"#.utf8)
        string(document.id.uuidString.lowercased(), into: &out)
        out.append(contentsOf: #","title":"#.utf8)
        string(document.title, into: &out)
        out.append(contentsOf: #","body":"#.utf8)
        string(document.body, into: &out)
        out.append(contentsOf: #","tags":["#.utf8)
        for (index, tag) in document.tags.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(tag, into: &out)
        }
        out.append(contentsOf: #"],"facets":{"#.utf8)
        for (index, name) in document.facets.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(name, into: &out)
            out.append(UInt8(ascii: ":"))
            string(document.facets[name] ?? "", into: &out)
        }
        out.append(contentsOf: #"},"visible_to":"#.utf8)
        if let visibleTo = document.visibleTo {
            out.append(UInt8(ascii: "["))
            for (index, user) in visibleTo.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                string(user.uuidString.lowercased(), into: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","version":"#.utf8)
        out.append(contentsOf: String(document.version).utf8)
        out.append(contentsOf: #","deleted":"#.utf8)
        out.append(contentsOf: (document.deleted ? "true" : "false").utf8)
        out.append(contentsOf: #","updated_at":""#.utf8)
        timestamp(document.updatedAt, into: &out)
        out.append(contentsOf: #""}"#.utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: quote, backslash and control characters escaped, the rest as UTF-8.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)],
                    hexDigits[Int(byte & 0xF)],
                ])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// RFC 3339 in UTC with milliseconds, e.g. 2026-12-01T11:00:00.123Z.
    static func timestamp(_ date: Date, into out: inout [UInt8]) {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        var seconds = time_t((millis / 1000).rounded(.down))
        let fraction = Int(millis - Double(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(fraction, 3)
        out.append(UInt8(ascii: "Z"))
    }
}
